"""``python -m mcprag_client`` is the ``mcprag`` command."""

from .cli import main

raise SystemExit(main())
