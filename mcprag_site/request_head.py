"""An over-large request head under daphne gets an HTTP answer instead of a dropped connection.

daphne parses HTTP/1.1 with Twisted's ``HTTPChannel``, whose limits are 16,384 bytes for one line
(``MAX_LENGTH``), 16,384 bytes for the request line and header fields together
(``totalHeadersSize``) and 500 header fields (``maxHeaders``). Past a limit it answered nothing: a
header field longer than 16 KB (a 20 KB ``Authorization`` or ``Cookie``) closed the connection
without a response, and a head over 16 KB in all, or with more than 500 fields, got a bare
``400 Bad Request`` with no body. The request never reaches the ASGI application, so no view or
guard can answer it.

:func:`install` makes daphne build its connections with :class:`LimitedHeadChannel`, Twisted's
channel with the same limits, which answers

* ``431 Request Header Fields Too Large`` (RFC 6585 §5) for a header field over the line limit, a
  head over the total limit or too many fields;
* ``414 URI Too Long`` (RFC 9110 §15.5.15) for a request line over the line limit;

each with ``Connection: close`` and a JSON body ``{"error", "error_description"}`` (the shape of
the site's other errors, e.g. the gateway's 413), and one WARNING log line. The connection is then
closed the way HTTP/1.1 servers close after an error (RFC 9112 §9.6): the write side first, while
what the client is still sending is read and dropped (for at most :data:`LINGER_SECONDS`), so the
client reads the answer instead of a reset. Every other malformed request is Twisted's as before.

uvicorn (h11) answers a head it cannot take with its own ``400 Invalid HTTP request received.``;
nothing here changes it.
"""

from __future__ import annotations

import json
import logging

from twisted.web import http

__all__ = ["LimitedHeadChannel", "install", "LINGER_SECONDS"]

logger = logging.getLogger(__name__)

#: How long a refused connection keeps reading (and dropping) what the client still sends.
LINGER_SECONDS = 5.0

_REASONS = {414: "URI Too Long", 431: "Request Header Fields Too Large"}
_ERRORS = {414: "uri_too_long", 431: "request_header_fields_too_large"}


class LimitedHeadChannel(http.HTTPChannel):
    """Twisted's HTTP/1.1 channel, answering a request head over its limits with 431 or 414."""

    _head_refused = False
    _linger_call = None

    def dataReceived(self, data: bytes) -> None:
        if self._head_refused:
            return  # read and dropped until the client closes or the linger time is over
        super().dataReceived(data)

    def lineLengthExceeded(self, line: bytes) -> None:
        """One line over ``MAX_LENGTH``: the request line (414) or a header field (431)."""
        if not self.requests:  # no request line read yet: this is it
            self._refuse(414, f"The request line is longer than {self.MAX_LENGTH:,} bytes.")
        else:
            self._refuse(431, f"A request header field is longer than {self.MAX_LENGTH:,} bytes.")

    def lineReceived(self, line: bytes) -> None:
        if self._head_refused:
            return  # the rest of a chunk that held the line over the limit
        if self._receivedHeaderSize + len(line) > self.totalHeadersSize:
            self._refuse(431, f"The request's header fields are longer than {self.totalHeadersSize:,} bytes in all.")
            return
        super().lineReceived(line)

    def headerReceived(self, line: bytes) -> bool:
        if self._receivedHeaderCount >= self.maxHeaders:
            self._refuse(431, f"The request has more than {self.maxHeaders:,} header fields.")
            return False
        return super().headerReceived(line)

    def _refuse(self, status: int, description: str) -> None:
        self._head_refused = True
        peer = self.transport.getPeer()
        logger.warning("request head refused with %d from %s: %s", status, getattr(peer, "host", peer), description)
        body = json.dumps({"error": _ERRORS[status], "error_description": description}).encode()
        self.transport.write(
            f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n".encode() + body
        )
        self._networkProducer.unregisterProducer()
        lose_write = getattr(self.transport, "loseWriteConnection", None)
        if lose_write is None:
            self.transport.loseConnection()
            return
        lose_write()  # the answer, then FIN; reading goes on so the client can finish sending
        self._linger_call = self.callLater(LINGER_SECONDS, self.transport.abortConnection)

    def connectionLost(self, reason) -> None:
        if self._linger_call is not None and self._linger_call.active():
            self._linger_call.cancel()
        super().connectionLost(reason)


def _limited_head_protocol(factory) -> http._GenericHTTPChannelProtocol:
    """``HTTPFactory.protocol`` (called as a method, like Twisted's own
    ``_genericHTTPChannelProtocolFactory``): Twisted's protocol wrapper around a
    :class:`LimitedHeadChannel`."""
    return http._GenericHTTPChannelProtocol(LimitedHeadChannel())


def install() -> None:
    """Make daphne's ``HTTPFactory`` (``python -m daphne``, ``manage.py runserver``) build
    :class:`LimitedHeadChannel` connections. Idempotent; under another server (uvicorn) daphne's
    factory is never used and nothing changes."""
    from daphne.http_protocol import HTTPFactory

    HTTPFactory.protocol = _limited_head_protocol
