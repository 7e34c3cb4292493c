"""A CIMD fetcher for tests: serves client metadata documents from memory or a JSON file instead
of the network, then applies mcprag's real document checks (``MetadataFetcher.fetch``).

The file named by ``MCPRAG_TEST_CIMD_DOCUMENTS`` (for a server subprocess) maps client_id URLs
to documents; :data:`DOCUMENTS` does the same inside the test process.
"""

from __future__ import annotations

import json
import os

from oauth2_provider.cimd import CIMDError

from oauth_app.client_metadata import MetadataFetcher

DOCUMENTS: dict[str, dict] = {}


class StaticDocumentFetcher(MetadataFetcher):
    def fetch_document(self, client_id):
        documents = dict(DOCUMENTS)
        path = os.environ.get("MCPRAG_TEST_CIMD_DOCUMENTS")
        if path and os.path.exists(path):
            with open(path) as f:
                documents.update(json.load(f))
        if client_id not in documents:
            raise CIMDError("no such document")
        return documents[client_id], 300
