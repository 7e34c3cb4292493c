"""OAuth Client ID Metadata Documents — draft-ietf-oauth-client-id-metadata-document,
https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/

A client may use an ``https`` URL as its ``client_id``; the authorization server fetches the JSON
document at that URL (DOT's SSRF-hardened :class:`~oauth2_provider.cimd.SafeMetadataFetcher`:
public addresses only, no redirects, size and time limits) and registers a public client from it.
mcprag then applies its own registration rules to the document, the same as for RFC 7591:

* the document MUST be a JSON object with ``client_id``, ``client_name`` and ``redirect_uris``
  (MCP 2025-11-25 "Client ID Metadata Documents"), and ``client_id`` MUST equal the URL (DOT);
* redirect URIs: https, loopback http or an allowed private-use scheme (:mod:`.registration`);
* public clients only (``token_endpoint_auth_method`` ``none``).

Fetch and validation failures are logged only; the client just looks unknown (DOT ``CIMDError``).
The full document is kept on the Application so the consent page can show name and site.
"""

from __future__ import annotations

import threading

from oauth2_provider.cimd import CIMDError, SafeMetadataFetcher

from .registration import RegistrationError, validate_metadata_values, validate_redirect_uri

__all__ = ["MetadataFetcher", "check_document", "take_fetched_document"]

_fetched = threading.local()


def check_document(client_id: str, document) -> None:
    """Apply mcprag's registration policy to a fetched document; raise CIMDError if it fails."""
    if not isinstance(document, dict):
        raise CIMDError("client metadata document is not a JSON object")
    for field in ("client_id", "client_name", "redirect_uris"):
        if field not in document:
            raise CIMDError(f"client metadata document lacks {field}")
    if not isinstance(document["client_name"], str) or not document["client_name"].strip():
        raise CIMDError("client_name must be a non-empty string")
    uris = document["redirect_uris"]
    if not isinstance(uris, list) or not uris:
        raise CIMDError("redirect_uris must be a non-empty array")
    try:
        for uri in uris:
            validate_redirect_uri(uri)
        validate_metadata_values(document)
    except RegistrationError as exc:
        raise CIMDError(exc.description) from exc
    if document.get("token_endpoint_auth_method", "none") != "none":
        raise CIMDError("only public clients may use a client ID metadata document")


class MetadataFetcher(SafeMetadataFetcher):
    """DOT's ``CIMD_METADATA_FETCHER``: fetch safely, then check the document against our policy."""

    def fetch(self, client_id):
        document, max_age = self.fetch_document(client_id)
        check_document(client_id, document)
        _fetched.documents = {**getattr(_fetched, "documents", {}), client_id: document}
        return document, max_age

    def fetch_document(self, client_id):
        """Return ``(document, max_age_seconds)``; override to serve documents another way (tests)."""
        return super().fetch(client_id)


def take_fetched_document(client_id: str) -> dict | None:
    """The document fetched for ``client_id`` in this thread, once (then forgotten)."""
    documents = getattr(_fetched, "documents", {})
    return documents.pop(client_id, None)
