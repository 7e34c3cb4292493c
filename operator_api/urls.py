"""``/api/`` routes: a DRF router over the viewsets, the OpenAPI schema at ``/api/schema/``, and the
API's own 404 for any other path under ``/api/``."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import views

app_name = "operator_api"

router = SimpleRouter()
router.register("repositories", views.RepositoryViewSet, basename="repository")
router.register("jobs", views.JobViewSet, basename="job")
router.register("people", views.PersonViewSet, basename="person")
router.register("agents", views.AgentViewSet, basename="agent")
router.register("audit/tool-calls", views.ToolCallViewSet, basename="toolcall")
router.register("audit/auth-events", views.AuthEventViewSet, basename="authevent")
router.register("audit/operator-actions", views.OperatorActionViewSet, basename="operatoraction")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    *router.urls,
    re_path(r"^.*$", views.not_found),
]
