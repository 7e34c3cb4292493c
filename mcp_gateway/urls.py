from django.urls import path

from .hooks import git_push_hook
from .metadata import ProtectedResourceMetadataView
from .metrics import metrics_view
from .readiness import healthz, readyz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("hooks/git/<slug:repository>/", git_push_hook, name="git-push-hook"),
    path(".well-known/oauth-protected-resource", ProtectedResourceMetadataView.as_view(), name="protected-resource-metadata"),
    path(
        ".well-known/oauth-protected-resource/<path:resource_path>",
        ProtectedResourceMetadataView.as_view(),
        name="protected-resource-metadata-path",
    ),
]
