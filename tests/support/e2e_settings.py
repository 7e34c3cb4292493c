"""Settings for the e2e server subprocess: production settings plus the test CIMD fetcher
(documents come from the file named by MCPRAG_TEST_CIMD_DOCUMENTS instead of the network)."""

from mcprag_site.settings import *  # noqa: F403
from mcprag_site.settings import OAUTH2_PROVIDER

OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "CIMD_METADATA_FETCHER": "tests.support.cimd.StaticDocumentFetcher"}
