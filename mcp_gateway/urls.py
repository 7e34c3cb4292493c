from django.urls import path

from .metadata import ProtectedResourceMetadataView
from .metrics import metrics_view
from .readiness import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path(".well-known/oauth-protected-resource", ProtectedResourceMetadataView.as_view(), name="protected-resource-metadata"),
    path(
        ".well-known/oauth-protected-resource/<path:resource_path>",
        ProtectedResourceMetadataView.as_view(),
        name="protected-resource-metadata-path",
    ),
]
