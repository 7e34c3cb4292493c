"""Authorization endpoint with mcprag's consent page (RFC 6749 §4.1.1, RFC 8707, RFC 9207).

DOT's :class:`~oauth2_provider.views.AuthorizationView` does the protocol work; this subclass

* posts the consent form's hidden fields back unstripped, so ``state`` returns exactly as sent
  (RFC 6749 §4.1.2; :class:`~oauth_app.forms.ConsentForm`);
* ignores a client-supplied ``approval_prompt`` (a client must not skip consent);
* shows what the consent page needs: client name, website host, redirect host, the resource,
  and the scopes in plain words — narrowed to the person's tier; never the client's logo (its
  ``logo_uri`` is self-asserted, RFC 7591 §5: loading it would tell the client who opened the
  page, and show whatever logo it chose);
* skips the page when a remembered consent covers the request (:mod:`oauth_app.flows.consent`);
* binds the consent form to the request that rendered it: the request is kept in the session and
  the POST must carry its id and post its values back unchanged, or it gets an error page, no
  code and no remembered consent (:func:`~oauth_app.flows.consent.hold_request`);
* records every grant and denial as an audit event;
* marks every answer ``Cache-Control: no-store`` (the consent page carries a CSRF token and the
  request's ``state``; a redirect carries the code), like the sign-in pages.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.views import AuthorizationView
from oauthlib.oauth2.rfc6749 import errors

from ..flows import consent as consent_flow
from ..flows.login import session_amr
from ..forms import ConsentForm
from ..registration import is_loopback_redirect
from ..resource_indicators import resource_named
from ..app_settings import app_settings
from ..effective_scopes import is_staff, tier_scopes
from ..scopes import scope_labels, tier_of


@method_decorator(never_cache, name="dispatch")
class AuthorizeView(AuthorizationView):
    template_name = "oauth/consent.html"
    form_class = ConsentForm  # state & co. round-trip unstripped (RFC 6749 §4.1.2)

    def _allowed(self) -> frozenset[str]:
        """Scopes this sign-in may grant: the person's tier (and the operator scope for staff), and
        admin scopes only after TOTP."""
        user = self.request.user
        return tier_scopes(tier_of(user), session_amr(self.request), staff=is_staff(user))

    def _claims(self) -> str:
        """What the grant remembers of this sign-in: its RFC 8176 ``amr`` (never client input)."""
        return json.dumps({"amr": session_amr(self.request)})

    def get(self, request, *args, **kwargs):
        if "approval_prompt" in request.GET:
            query = request.GET.copy()
            query.pop("approval_prompt")
            request.GET = query
        return super().get(request, *args, **kwargs)

    def render_to_response(self, context, **response_kwargs):
        remembered = self._try_remembered_consent(context)
        if remembered:
            return remembered
        self._bind_form(context)
        return super().render_to_response(context, **response_kwargs)

    def _bind_form(self, context) -> None:
        """Keep the request this consent page shows in the session; its form carries the id."""
        form = context.get("form")
        if form is None or context.get("application") is None or context.get("error") or self.request.method != "GET":
            return
        form.initial["request_id"] = consent_flow.hold_request(self.request.session, form.initial)

    def _try_remembered_consent(self, context):
        application = context.get("application")
        if application is None or context.get("error") or self.request.method != "GET":
            return None
        scopes = [s for s in context.get("scopes") or [] if s in self._allowed()]
        resource = resource_named(context.get("resource"))
        if not scopes or not consent_flow.is_covered(
            self.request.user, application, scopes, resource, context.get("redirect_uri") or ""
        ):
            return None
        credentials = {k: context[k] for k in ("client_id", "redirect_uri", "response_type", "state",
                                                "code_challenge", "code_challenge_method") if context.get(k)}
        credentials["resource"] = [resource]
        credentials["claims"] = self._claims()
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=self.request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def error_response(self, error, application, **kwargs):
        """RFC 9207 §2: the ``iss`` parameter is part of error responses too (mix-up defence)."""
        response = super().error_response(error, application, **kwargs)
        location = response.get("Location") if response.status_code in (301, 302) else None
        if location and "iss=" not in urlsplit(location).query:
            separator = "&" if urlsplit(location).query else "?"
            response["Location"] = f"{location}{separator}{urlencode({'iss': app_settings.ISSUER})}"
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        requested = kwargs.get("scopes") or []
        context["scope_items"] = scope_labels([s for s in requested if s in self._allowed()])
        context["withheld_scopes"] = scope_labels([s for s in requested if s not in self._allowed()])
        context["redirect_host"] = urlsplit(kwargs.get("redirect_uri") or "").netloc
        context["redirect_is_loopback"] = is_loopback_redirect(kwargs.get("redirect_uri") or "")
        context["resource_display"] = resource_named(kwargs.get("resource"))
        with_mfa = tier_scopes(tier_of(self.request.user), ["otp"], staff=is_staff(self.request.user))  # what TOTP would add
        context["needs_mfa"] = [s for s in requested if s in with_mfa and s not in self._allowed()]
        context["step_up_url"] = f"{reverse('accounts:mfa-verify')}?{urlencode({'next': self.request.get_full_path()})}"
        application = kwargs.get("application")
        if application is not None and application.client_uri:
            context["client_host"] = urlsplit(application.client_uri).netloc
        return context

    def form_valid(self, form):
        if consent_flow.take_bound_request(self.request, form.cleaned_data) is None:
            # A hidden field edited after rendering, or a form from another session or answered
            # already: an error page, never a redirect (the redirect_uri itself may be the edit).
            return self.error_response(FatalClientError(error=errors.InvalidRequestFatalError(
                description="This consent form does not match the authorization request it was shown for. "
                            "Go back to the application and start again.")), None)
        if self._application(form) is None:
            # The client was deleted since the page was rendered: RFC 6749 §4.1.2.1's error page,
            # never a redirect — not DOT's Application.DoesNotExist (a 500).
            return self.error_response(FatalClientError(error=errors.InvalidClientIdError()), None)
        allowed = self._allowed()
        scopes = [s for s in (form.cleaned_data.get("scope") or "").split() if s in allowed]
        if form.cleaned_data.get("allow") and not scopes:
            # None of the requested scopes may be granted in this sign-in. An empty scope would make
            # oauthlib fall back to the request's own ``scope`` and issue the withheld scopes.
            return self._no_grantable_scope(form)
        form.cleaned_data["scope"] = " ".join(scopes)
        form.cleaned_data["claims"] = self._claims()  # the posted hidden field is ignored
        response = super().form_valid(form)
        application = self._application(form)
        if application is not None and response.status_code in (301, 302):
            if form.cleaned_data.get("allow") and "code=" in response.get("Location", ""):
                consent_flow.remember(self.request.user, application, scopes,
                                      resource_named(form.cleaned_data.get("resource")), request=self.request)
            elif not form.cleaned_data.get("allow"):
                consent_flow.deny(self.request.user, application, scopes, request=self.request)
        return response

    def _no_grantable_scope(self, form):
        """RFC 6749 §4.1.2.1 ``invalid_scope`` to the client's (validated, bound) redirect URI, with
        ``state`` and RFC 9207 ``iss``; no code, and consents given before are left as they were."""
        error = errors.InvalidScopeError(
            description="None of the requested scopes can be granted to this account in this sign-in.",
            state=form.cleaned_data.get("state") or None)
        uri = error.in_uri(form.cleaned_data["redirect_uri"])
        uri = f"{uri}{'&' if urlsplit(uri).query else '?'}{urlencode({'iss': app_settings.ISSUER})}"
        return self.redirect(uri, self._application(form))

    @staticmethod
    def _application(form):
        from ..models import Application

        return Application.objects.filter(client_id=form.cleaned_data.get("client_id")).first()
