"""Every MCP tool, grouped by kind. Importing this package fills the registry."""

from . import search, files, symbols, history, analysis, feedback, indexing, admin, resources  # noqa: F401,I001  (tools/list order)
