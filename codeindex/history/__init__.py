"""Git history of indexed repositories: commits, blame, diffs, read from each repository's
partial clone (``MCPRAG_CLONE_DIR/<name>``, ``--filter=blob:none``, at most ``history_depth``
commits). ``git.py`` runs git safely; ``queries.py`` answers the history services."""
