"""OpenTelemetry traces: export the MCP SDK's spans over OTLP when the operator asks for it.

The ``mcp`` SDK wraps every MCP request in a span (``tools/call search_code``, ``resources/read
…``; server kind, the JSON-RPC method and target as attributes) and continues a trace whose W3C
``traceparent`` the client sent in ``_meta``. Through ``opentelemetry-api`` alone those spans are
no-ops. :func:`configure` installs the OpenTelemetry SDK's tracer provider with a batching OTLP/HTTP
exporter when an OTLP endpoint is configured by the standard variables of the OpenTelemetry
specification ("Environment Variable Specification", read by the SDK and exporter themselves):

* ``OTEL_EXPORTER_OTLP_ENDPOINT`` (e.g. ``http://collector:4318``; spans go to ``/v1/traces``) or
  ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (the full URL) — without either, nothing is exported;
* ``OTEL_EXPORTER_OTLP_HEADERS`` (e.g. an API key), ``OTEL_EXPORTER_OTLP_TIMEOUT``,
  ``OTEL_EXPORTER_OTLP_COMPRESSION``, ``OTEL_BSP_*`` (batching);
* ``OTEL_SERVICE_NAME`` (default here ``mcprag``) and ``OTEL_RESOURCE_ATTRIBUTES``;
* ``OTEL_SDK_DISABLED=true`` or ``OTEL_TRACES_EXPORTER=none`` turn it off.

Spans carry method names and ids, never arguments, tokens or results.
"""

from __future__ import annotations

import logging
import os

__all__ = ["configure"]

log = logging.getLogger(__name__)
_configured = False


def _wanted() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() in ("none", ""):
        return False
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure() -> bool:
    """Install the OTLP trace exporter when the ``OTEL_*`` variables ask for one (once per
    process); returns whether traces are exported. A missing package or a bad setting is logged
    as one WARNING and leaves tracing off: it never stops the server."""
    global _configured
    if _configured or not _wanted():
        return _configured
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import OTEL_SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed (%s); traces are off", exc.name)
        return False
    try:
        defaults = {} if os.environ.get(OTEL_SERVICE_NAME) else {"service.name": "mcprag"}
        provider = TracerProvider(resource=Resource.create(defaults))  # flushes its last batch at exit
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    except Exception as exc:  # a malformed OTEL_* value: say which kind, keep serving
        log.warning("OpenTelemetry exporter not started: %s: %s", exc.__class__.__name__, str(exc)[:200])
        return False
    trace.set_tracer_provider(provider)
    _configured = True
    log.info("OpenTelemetry: exporting traces over OTLP/HTTP")
    return True
