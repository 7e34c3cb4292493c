"""Console routes (``/console/``, operators only) and the person's own agent pages (``/account/``).

``mcprag_site.urls`` mounts ``urlpatterns`` in the ``console`` namespace and
``account_urlpatterns`` in the ``account`` namespace.
"""

from django.urls import path

from .views import agents, assets, audit, connected_agents, freshness, jobs, overview, people, repositories

app_name = "console"

urlpatterns = [
    path("", overview.OverviewView.as_view(), name="overview"),
    path("people/", people.PersonListView.as_view(), name="person-list"),
    path("people/<int:pk>/", people.PersonDetailView.as_view(), name="person-detail"),
    path("people/<int:pk>/tier/", people.PersonTierView.as_view(), name="person-tier"),
    path("people/<int:pk>/action/", people.PersonActionView.as_view(), name="person-action"),
    path("agents/", agents.AgentListView.as_view(), name="agent-list"),
    path("agents/<int:pk>/", agents.AgentDetailView.as_view(), name="agent-detail"),
    path("agents/<int:pk>/disable/", agents.AgentDisableView.as_view(), name="agent-disable"),
    path("agents/<int:pk>/enable/", agents.AgentEnableView.as_view(), name="agent-enable"),
    path("agents/<int:pk>/revoke/", agents.AgentRevokeView.as_view(), name="agent-revoke"),
    path("audit/", audit.ToolCallListView.as_view(), name="toolcall-list"),
    path("audit/tool-calls.csv", audit.ToolCallExportView.as_view(), name="toolcall-export"),
    path("audit/auth-events/", audit.AuthEventListView.as_view(), name="authevent-list"),
    path("audit/auth-events.csv", audit.AuthEventExportView.as_view(), name="authevent-export"),
    path("audit/operator-actions/", audit.OperatorActionListView.as_view(), name="operatoraction-list"),
    path("audit/operator-actions.csv", audit.OperatorActionExportView.as_view(), name="operatoraction-export"),
    path("repositories/", repositories.RepositoryListView.as_view(), name="repository-list"),
    path("repositories/<slug:name>/reindex/", repositories.RepositoryReindexView.as_view(), name="repository-reindex"),
    path("repositories/<slug:name>/freshness/", freshness.RepositoryFreshnessView.as_view(), name="repository-freshness"),
    path("jobs/", jobs.JobListView.as_view(), name="job-list"),
    path("jobs/<int:pk>/", jobs.JobDetailView.as_view(), name="job-detail"),
    path("jobs/<int:pk>/progress.json", jobs.JobProgressView.as_view(), name="job-progress"),
    path("console.js", assets.ConsoleScriptView.as_view(), name="script"),
]

account_urlpatterns = [
    path("agents/", connected_agents.ConnectedAgentListView.as_view(), name="agents"),
    path("agents/<int:pk>/revoke/", connected_agents.ConnectedAgentRevokeView.as_view(), name="agent-revoke"),
]
