"""Background tasks of the gateway end with the server, so the process can exit.

The SDK runs synchronous resource and prompt functions on AnyIO worker threads. Those threads are
not daemons: each one stops only when the task AnyIO took for the "root" of its event loop ends,
and for a call served under the gateway's Streamable HTTP session manager that root is the
manager's own long-lived background task. uvicorn ends every remaining task when it stops
(``asyncio.run``), but daphne stops its Twisted reactor without doing so: the manager's task never
ends, the worker threads never stop, and the interpreter waits for them for ever after Ctrl-C.

:func:`cancel_at_shutdown` registers a Twisted "before shutdown" trigger (the hook daphne itself
uses to cancel open requests) that cancels the given tasks and makes the reactor wait for them;
outside daphne it does nothing.
"""

from __future__ import annotations

import asyncio
import sys

__all__ = ["cancel_at_shutdown"]


def cancel_at_shutdown(tasks: list[asyncio.Task]) -> None:
    """Cancel ``tasks`` (the list as it is at shutdown) when daphne's reactor shuts down."""
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None or not getattr(reactor, "running", False):
        return  # not served by daphne (uvicorn, tests): asyncio.run ends the tasks itself
    from twisted.internet import defer

    def cancel():
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        return defer.Deferred.fromFuture(asyncio.gather(*pending, return_exceptions=True))

    reactor.addSystemEventTrigger("before", "shutdown", cancel)
