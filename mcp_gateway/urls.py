from django.urls import path

from .metadata import ProtectedResourceMetadataView
from .readiness import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path(".well-known/oauth-protected-resource", ProtectedResourceMetadataView.as_view(), name="protected-resource-metadata"),
    path(
        ".well-known/oauth-protected-resource/<path:resource_path>",
        ProtectedResourceMetadataView.as_view(),
        name="protected-resource-metadata-path",
    ),
]
