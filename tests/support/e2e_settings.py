"""Settings for the e2e server subprocess: production settings plus the test CIMD fetcher
(documents come from the file named by MCPRAG_TEST_CIMD_DOCUMENTS instead of the network)."""

from mcprag_site.settings import *  # noqa: F403
from mcprag_site.settings import OAUTH2_PROVIDER

OAUTH2_PROVIDER = {**OAUTH2_PROVIDER, "CIMD_METADATA_FETCHER": "tests.support.cimd.StaticDocumentFetcher"}

# The e2e suite signs the same few people in dozens of times within minutes, every one of them
# from 127.0.0.1, so the sign-in and registration limits would refuse the suite itself depending
# on how its tests fall into the time windows. The limits are tested in
# tests/unit/oauth_app/test_rate_limits.py; token and per-client limits stay as in production.
MCPRAG_RATE_LIMITS = {  # noqa: F405
    **MCPRAG_RATE_LIMITS, "login_ip": (1000, 300), "login_account": (1000, 300), "login_failures_ip": (1000, 300),
    "login_failures": (1000, 300), "register": (1000, 3600),  # noqa: F405
}
