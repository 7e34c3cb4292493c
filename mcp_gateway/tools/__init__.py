"""Every MCP tool, grouped by kind. Importing this package fills the registry."""

from . import search  # noqa: F401
