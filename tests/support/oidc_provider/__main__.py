"""``python -m tests.support.oidc_provider PORT``: migrate, load the people and the one client
(``MCPRAG_TEST_IDP_CLIENT``: ``{"client_id", "client_secret", "redirect_uris"}``), serve on
127.0.0.1:PORT with uvicorn."""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.support.oidc_provider.settings")

import django  # noqa: E402

django.setup()

import uvicorn  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402

from tests.support.oidc_provider.validators import people  # noqa: E402


def seed() -> None:
    call_command("migrate", verbosity=0)
    User = get_user_model()
    for person in people().values():
        user, _ = User.objects.get_or_create(username=person["username"], defaults={"email": person["email"]})
        user.set_password(person["password"])
        user.save()
    client = json.loads(os.environ["MCPRAG_TEST_IDP_CLIENT"])
    Application = get_application_model()
    Application.objects.filter(client_id=client["client_id"]).delete()
    Application.objects.create(
        name="mcprag", client_id=client["client_id"], client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(client["redirect_uris"]), algorithm=Application.RS256_ALGORITHM, skip_authorization=True,
    )


if __name__ == "__main__":
    seed()
    uvicorn.run(get_asgi_application(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", lifespan="off")
