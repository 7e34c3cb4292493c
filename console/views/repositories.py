"""Console repositories: what is indexed, how big, how fresh, its latest job; starting a re-index.

The page says which dense search engine serves (pgvector or in memory, and why) and which optional
database extensions are installed. The list reads ``codeindex.services.status`` with the operator's view (every repository, see
``console.index_jobs.OPERATOR_ACCESS``). Re-index is a POST (CSRF-checked) through
``console.services.start_reindex``; it lands on the new job's page, or back here with the reason
it was refused.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import TemplateView, View

from codeindex import services as codeindex
from codeindex.exceptions import CodeIndexError

from .. import services
from ..index_jobs import OPERATOR_ACCESS, progress_document
from ..permissions import OperatorRequiredMixin


class RepositoryListView(OperatorRequiredMixin, TemplateView):
    template_name = "console/repository_list.html"

    def get_context_data(self, **kwargs):
        rows = [(repo, _latest_job(repo)) for repo in codeindex.status(access=OPERATOR_ACCESS)]
        return super().get_context_data(rows=rows, section="repositories", dense_engine=codeindex.dense_engine(),
                                        extensions=codeindex.optional_extensions(), **kwargs)


def _latest_job(repo) -> dict | None:
    """The progress document of the repository's active job, else of its last finished one."""
    job = repo.active_job or repo.last_job
    return progress_document(job, errors_limit=0) if job else None


class RepositoryReindexView(OperatorRequiredMixin, View):
    """POST only: queue a re-index of ``name`` from its recorded source, then show the job."""

    http_method_names = ["post"]

    def post(self, request, name):
        try:
            job = services.start_reindex(request.user, name)
        except CodeIndexError as exc:
            messages.error(request, f"Re-index not started: {exc}.")
            return redirect("console:repository-list")
        state = "finished: " + job.status if job.finished else job.status
        messages.success(request, f"Re-index of {name} started as job {job.id} ({state}).")
        return redirect("console:job-detail", pk=job.id)
