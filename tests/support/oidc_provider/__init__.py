"""A real OpenID Connect provider for the single sign-on tests: a second, minimal Django site
running django-oauth-toolkit's OIDC provider (discovery, JWKS, RS256 ID tokens, userinfo, PKCE
required), started on a free loopback port by :func:`tests.support.oidc_provider.server.start`.

Its people come from a JSON file (``MCPRAG_TEST_IDP_PEOPLE``) that a test may rewrite between
sign-ins: ``[{"username", "password", "email", "email_verified", "groups", "amr"}]``. ``groups``
and ``amr`` are sent as ID-token and userinfo claims, as Okta, Entra ID and Keycloak send them.
"""
