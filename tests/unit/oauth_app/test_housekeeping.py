"""Expired tokens, grants and orphaned sign-in contexts are cleared by the periodic task."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model

from oauth_app.models import TokenFamilyContext
from oauth_app.tasks import clear_expired_tokens

from tests.support.oauth import REDIRECT_URI

pytestmark = pytest.mark.django_db


def test_expired_rows_and_orphaned_contexts_go_live_ones_stay(client, public_client, obtain_code, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": 3600}
    code, verifier, _ = obtain_code(public_client["client_id"])
    client.post("/token/", {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                            "client_id": public_client["client_id"], "code_verifier": verifier})
    live_tokens = get_access_token_model().objects.count()
    code2, _, _ = obtain_code(public_client["client_id"])
    get_grant_model().objects.filter(code=code2).update(expires=timezone.now() - datetime.timedelta(hours=1))
    TokenFamilyContext.objects.create(token_family=uuid.uuid4(), amr=["pwd"])  # its family is gone
    assert clear_expired_tokens() == 1
    assert not get_grant_model().objects.filter(code=code2).exists()
    assert get_access_token_model().objects.count() == live_tokens
