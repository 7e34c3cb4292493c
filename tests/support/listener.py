"""A TCP listener on a loopback port that counts the connections it accepts: tests that must
prove the server made NO outbound request (SSRF) assert its count stays 0."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Listener:
    port: int
    connections: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 5.0) -> int:
        """The connection count once it reaches ``count`` or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while self.connections < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.connections


@contextlib.contextmanager
def counting_listener() -> Iterator[Listener]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    listener = Listener(port=server.getsockname()[1])

    def serve():
        while not listener._stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            listener.connections += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        listener._stop.set()
        thread.join(2)
        server.close()
