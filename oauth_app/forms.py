"""Forms of the authorization server's pages."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from oauth2_provider.forms import AllowForm


def _exact(required: bool = False) -> forms.CharField:
    return forms.CharField(required=required, strip=False, widget=forms.HiddenInput())


class ConsentForm(AllowForm):
    """DOT's consent form, with the request values that must come back byte for byte unstripped.

    Django's ``CharField`` strips surrounding whitespace (``str.strip``, which also removes
    U+2028 and other Unicode spaces) by default. RFC 6749 §4.1.2 returns ``state`` "exactly" as
    the client sent it; ``redirect_uri`` and the PKCE ``code_challenge``/``code_challenge_method``
    (RFC 7636 §4.3) are re-validated on this POST as posted, not a trimmed variant of them;
    ``nonce`` is echoed in an ID token (OpenID Connect Core §3.1.2.1). ``scope`` and ``resource``
    are whitespace-separated lists, split anyway.
    """

    #: The id of the authorization request kept in the session when this form was rendered
    #: (:func:`oauth_app.flows.consent.hold_request`); the POST must match that request.
    request_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput())
    redirect_uri = _exact(required=True)
    state = _exact()
    nonce = _exact()
    code_challenge = _exact()
    code_challenge_method = _exact()


class SignInForm(AuthenticationForm):
    """Django's sign-in form; the username field also takes the email address."""

    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254,
                             widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}))


class TOTPForm(forms.Form):
    code = forms.CharField(label="Code", max_length=32,
                           widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))
