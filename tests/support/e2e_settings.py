"""Settings for the e2e server subprocess: production settings plus the test CIMD fetcher
(documents come from the file named by MCPRAG_TEST_CIMD_DOCUMENTS instead of the network)."""

from mcprag_site.settings import *  # noqa: F403
from mcprag_site.settings import OAUTH2_PROVIDER

OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "CIMD_METADATA_FETCHER": "tests.support.cimd.StaticDocumentFetcher"}

# Every simulated person and agent of the e2e suite comes from 127.0.0.1, so the per-IP limits
# would count the whole suite as one visitor; per-account and token limits stay as in production.
MCPRAG_RATE_LIMITS = {**MCPRAG_RATE_LIMITS, "login_ip": (1000, 300), "register": (1000, 3600)}  # noqa: F405
