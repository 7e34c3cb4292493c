"""mcprag-client: the ``mcprag`` command-line client and stdio bridge for a remote mcprag server.

Everything MCP and OAuth goes through the ``mcp`` SDK client (``mcp.client.Client``,
``streamable_http_client``, ``OAuthClientProvider``); this package adds the loopback sign-in,
token storage that survives between runs, readable output and the stdio bridge.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
