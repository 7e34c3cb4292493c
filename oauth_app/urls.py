"""Authorization-server routes, mounted at the domain root in DOT's ``oauth2_provider`` namespace.

DOT's views reverse their own URL names (``oauth2_provider:token`` …) when they build the RFC 8414
document, so the endpoints keep those names.
"""

from django.urls import path

from .metadata import AuthorizationServerMetadataView, JWKSView
from .views import account, authorize, introspection, login, registration, sso, token

app_name = "oauth2_provider"

urlpatterns = [
    path(".well-known/oauth-authorization-server", AuthorizationServerMetadataView.as_view(), name="oauth-server-metadata"),
    path(".well-known/openid-configuration", AuthorizationServerMetadataView.as_view(), name="openid-configuration"),
    path(".well-known/jwks.json", JWKSView.as_view(), name="jwks-info"),
    path("authorize/", authorize.AuthorizeView.as_view(), name="authorize"),
    path("token/", token.TokenView.as_view(), name="token"),
    path("revoke_token/", token.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", introspection.IntrospectionView.as_view(), name="introspect"),
    path("register/", registration.RegistrationView.as_view(), name="dcr-register"),
    path(
        "register/<str:client_id>/",
        registration.RegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
]

account_urlpatterns = [
    path("login/", login.SignInView.as_view(), name="login"),
    path("login/magic-link/", login.MagicLinkCallbackView.as_view(), name="magic-link-callback"),
    path("login/oauth/callback/", login.StytchOAuthCallbackView.as_view(), name="stytch-oauth-callback"),
    path("login/oauth/<slug:provider>/", login.StytchOAuthStartView.as_view(), name="stytch-oauth-start"),
    path("login/sso/", sso.SSOStartView.as_view(), name="sso-start"),
    path("login/sso/callback/", sso.SSOCallbackView.as_view(), name="sso-callback"),
    path("login/verify/", login.SecondFactorView.as_view(), name="second-factor"),
    path("logout/", login.SignOutView.as_view(), name="logout"),
    path("password-reset/", login.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", login.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", login.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", login.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("account/", account.AccountView.as_view(), name="account"),
    path("account/mfa/", account.MFAEnrolView.as_view(), name="mfa"),
    path("account/mfa/verify/", account.MFAStepUpView.as_view(), name="mfa-verify"),
]
