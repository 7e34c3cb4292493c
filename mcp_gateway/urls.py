from django.urls import path

from .metadata import ProtectedResourceMetadataView

urlpatterns = [
    path(".well-known/oauth-protected-resource", ProtectedResourceMetadataView.as_view(), name="protected-resource-metadata"),
    path(
        ".well-known/oauth-protected-resource/<path:resource_path>",
        ProtectedResourceMetadataView.as_view(),
        name="protected-resource-metadata-path",
    ),
]
