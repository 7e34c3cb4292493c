"""Signing keys for access tokens and the JWKS document (RFC 7517, RFC 9068 §4).

* :func:`active_key` returns the newest unretired key, creating the first one on demand.
* :func:`rotate` creates a new key and retires the previous ones; a retired key stays in the
  JWKS for ``ACCESS_TOKEN_EXPIRE_SECONDS`` after retirement, so tokens it signed keep verifying
  until they expire (``python manage.py rotate_signing_key``).
* Private keys are encrypted at rest (Fernet, key derived from ``SECRET_KEY``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm
from oauth2_provider.settings import oauth2_settings

from .models import SigningKey

__all__ = ["LoadedKey", "active_key", "rotate", "published_keys", "jwks_document"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedKey:
    kid: str
    algorithm: str
    private_pem: bytes


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"mcprag-signing-key:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _create() -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    kid = secrets.token_urlsafe(12)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256")
    return SigningKey.objects.create(
        kid=kid, algorithm="RS256", private_key_encrypted=_fernet().encrypt(pem).decode(), public_jwk=jwk
    )


def _load(row: SigningKey) -> LoadedKey | None:
    try:
        pem = _fernet().decrypt(row.private_key_encrypted.encode())
    except InvalidToken:
        logger.warning("Signing key %s cannot be decrypted (SECRET_KEY changed?); retiring it.", row.kid)
        return None
    return LoadedKey(kid=row.kid, algorithm=row.algorithm, private_pem=pem)


def active_key() -> LoadedKey:
    """The key to sign new tokens with (created on first use)."""
    for row in SigningKey.objects.filter(retired_at__isnull=True)[:5]:
        loaded = _load(row)
        if loaded is not None:
            return loaded
        SigningKey.objects.filter(pk=row.pk).update(retired_at=timezone.now())
    with transaction.atomic():
        return _load(_create())


@transaction.atomic
def rotate() -> SigningKey:
    """Create a new active key and retire every other one; returns the new key."""
    now = timezone.now()
    SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=now)
    return _create()


def published_keys():
    """Keys whose signatures may still be valid: active ones, and retired ones younger than a token lifetime."""
    cutoff = timezone.now() - timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
    return SigningKey.objects.exclude(retired_at__lt=cutoff)


def jwks_document() -> dict:
    """``{"keys": [<public JWK>, …]}`` (RFC 7517 §5)."""
    return {"keys": [row.public_jwk for row in published_keys()]}
