"""ID-token and userinfo claims of the test provider's people (see the package docstring)."""

import json
import os

from oauth2_provider.oauth2_validators import OAuth2Validator


def people() -> dict[str, dict]:
    with open(os.environ["MCPRAG_TEST_IDP_PEOPLE"]) as f:
        return {p["username"]: p for p in json.load(f)}


class PeopleClaims(OAuth2Validator):
    oidc_claim_scope = None  # every claim in the ID token and at userinfo, as many IdPs are configured

    def get_additional_claims(self, request):
        person = people().get(request.user.get_username(), {})
        claims = {"email": request.user.email, "email_verified": bool(person.get("email_verified", True)),
                  "name": person.get("name", request.user.get_username()), "groups": list(person.get("groups", []))}
        if person.get("amr"):
            claims["amr"] = list(person["amr"])
        return claims
