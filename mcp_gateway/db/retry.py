"""Which database errors are worth another try, and how many tries a statement gets — the one
retry policy of the gateway's own statements (token lookups, the heartbeat, audit inserts).

A transient error is one that may pass if the same statement is sent again a moment later: a lost
or refused connection, a server restarting or shutting down, a serialization failure or deadlock,
a locked SQLite file. Everything else (a missing table, a value that does not fit) no retry mends.
"""

from __future__ import annotations

import sys
import time

from django.db import DatabaseError, InterfaceError, OperationalError

__all__ = ["is_transient", "Tries"]

#: PostgreSQL SQLSTATE classes (Appendix A of its manual) worth another try: 08 connection
#: exception, 40 transaction rollback, 53 insufficient resources, 57 operator intervention.
_TRANSIENT_SQLSTATE_CLASSES = {"08", "40", "53", "57"}


def is_transient(exc: BaseException) -> bool:
    """Whether a database error may pass if the same statement is tried again a moment later.

    True for a lost or refused connection (PostgreSQL SQLSTATE classes 08, 53, 57, a driver error
    with no SQLSTATE such as "server closed the connection"), a serialization failure or deadlock
    (class 40), and SQLite's ``SQLITE_BUSY``/``SQLITE_LOCKED`` (another connection holds the lock).
    False for everything else (a missing table, a value that does not fit), which no retry mends.
    Takes Django's wrapped errors and psycopg's own.
    """
    if isinstance(exc, DatabaseError):  # Django's wrapper: judge the driver's error beneath it
        if isinstance(exc, InterfaceError):  # the connection was already closed
            return True
        if not isinstance(exc, OperationalError):
            return False
        exc = exc.__cause__ or exc
    else:
        psycopg = sys.modules.get("psycopg")
        if psycopg is None or not isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            return False
        if isinstance(exc, psycopg.InterfaceError):
            return True
    errorname = getattr(exc, "sqlite_errorname", None)
    if errorname is not None:
        return errorname.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate is None:
        return True
    return sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES


class Tries:
    """The tries one statement gets: after a transient error, another try after each pause of
    ``pauses`` in turn (the last one repeating), while fewer than ``attempts`` tries were made and
    the next one would start within ``seconds`` of the first.

    ``Tries(attempts=2)``: one more try at once (e.g. on a new connection). ``Tries(attempts=1)``:
    no second try.

    :param pauses: seconds to wait before each new try.
    :param seconds: how long after the first try a new try may still start (None: no limit).
    :param attempts: the most tries in all (None: no limit but ``seconds``).
    """

    def __init__(self, *, pauses: tuple[float, ...] = (0.0,), seconds: float | None = None,
                 attempts: int | None = None) -> None:
        if seconds is None and attempts is None:
            raise ValueError("Tries needs a limit: seconds or attempts")
        self._deadline = None if seconds is None else time.monotonic() + seconds
        self._pauses = iter(pauses)
        self._last = pauses[-1]
        self._left = None if attempts is None else attempts - 1

    def pause_after(self, exc: BaseException) -> float:
        """Seconds to wait before the next try after ``exc``; re-raises ``exc`` (call it from the
        ``except`` block) when it is not transient or no try is left."""
        pause = next(self._pauses, self._last)
        if not is_transient(exc) or self._left == 0 or (
                self._deadline is not None and time.monotonic() + pause > self._deadline):
            raise exc
        if self._left is not None:
            self._left -= 1
        return pause
