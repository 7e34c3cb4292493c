"""The gateway's own database path: the two statements every ``tools/call`` makes, run from the
event loop without a worker-thread hop, and what keeps them fast and safe.

- :mod:`.connection` — a psycopg connection per event loop: opened on first use, reopened after a
  failure, closed at loop shutdown (:class:`~.connection.LoopConnection`).
- :mod:`.retry` — which database errors are transient, and how many tries a statement gets.
- :mod:`.token_rows` — the access-token row the bearer check reads (PostgreSQL, SQLite, or Django's
  connection on a worker thread), with group lookups under load.
- :mod:`.row_cache` — PostgreSQL only: token rows kept in memory while ``LISTEN``/``NOTIFY`` says
  they are current (migration ``mcp_gateway.0002``).
- :mod:`.audit_writer` — the tool-call audit rows, inserted with group commit and retries.

Nothing here decides anything: whether a token is accepted is :mod:`mcp_gateway.auth.bearer`'s
call, what an audit row holds and when a call waits for it is :mod:`mcp_gateway.audit`'s.
"""
