"""Authorization-server routes, mounted at the domain root in DOT's ``oauth2_provider`` namespace.

DOT's views reverse their own URL names (``oauth2_provider:token`` …) when they build the RFC 8414
document, so the endpoints keep those names.
"""

from django.urls import path
from oauth2_provider import views as dot_views

from .metadata import AuthorizationServerMetadataView, JWKSView
from .views import authorize, introspection, login, registration

app_name = "oauth2_provider"

urlpatterns = [
    path(".well-known/oauth-authorization-server", AuthorizationServerMetadataView.as_view(), name="oauth-server-metadata"),
    path(".well-known/openid-configuration", AuthorizationServerMetadataView.as_view(), name="openid-configuration"),
    path(".well-known/jwks.json", JWKSView.as_view(), name="jwks-info"),
    path("authorize/", authorize.AuthorizeView.as_view(), name="authorize"),
    path("token/", dot_views.TokenView.as_view(), name="token"),
    path("revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", introspection.IntrospectionView.as_view(), name="introspect"),
    path("register/", registration.RegistrationView.as_view(), name="dcr-register"),
    path(
        "register/<str:client_id>/",
        dot_views.DynamicClientRegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
]

account_urlpatterns = [
    path("login/", login.SignInView.as_view(), name="login"),
    path("logout/", login.SignOutView.as_view(), name="logout"),
]
