"""ASGI entry point: a Channels router.

``/mcp`` (Streamable HTTP), ``/sse`` and ``/messages/`` (legacy HTTP+SSE) go to the gateway: the
MCP SDK's transports behind mcprag's HTTP guard, all serving one tool registry. Everything else
goes to Django.

Under daphne, a request whose head is over Twisted's limits (16 KB, 500 header fields) is answered
431 or 414 by :mod:`mcprag_site.request_head` before it reaches the router.

When the server starts it also begins loading the embedding model in a background thread
(``codeindex.embeddings.warm_up``: the first query is as fast as the next; ``health_check`` says
"loading" until then) and, in the embedded default without a Celery broker, starts the
in-process index worker (``codeindex.worker.start``), which runs index and embeddings jobs in a
thread of this process: the jobs already queued (``manage.py index_repo`` leaves the embeddings
job of its run queued) and those the console or an index tool start. When the server stops
(SIGTERM, Ctrl-C), the running job stops at its next batch and is queued again for the next start.

Once everything is imported, the objects that exist are moved out of the garbage collector's
generations (``gc.freeze``): they live as long as the process, and a full collection no longer
walks them (a gateway worker's full collections went from about 155 ms to 57 ms, measured under
``bench/gateway.py`` load).
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mcprag_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from mcp_gateway.transports.sse import sse_asgi_app  # noqa: E402
from mcp_gateway.transports.streamable_http import mcp_asgi_app  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [
                re_path(r"^mcp/?$", mcp_asgi_app),
                re_path(r"^sse/?$", sse_asgi_app),
                re_path(r"^messages/?$", sse_asgi_app),
                re_path(r"", django_asgi_app),
            ]
        ),
    }
)

from codeindex import embeddings, worker  # noqa: E402
from mcprag_site import request_head, tracing  # noqa: E402

tracing.configure()  # OTLP traces of the SDK's spans, when OTEL_EXPORTER_OTLP_ENDPOINT is set
request_head.install()  # under daphne: 431 or 414 for a request head over its limits, never a dropped connection

embeddings.warm_up()
worker.start()
worker.stop_at_signals()  # under uvicorn, which ends by re-raising SIGTERM, where atexit never runs

gc.collect()
gc.freeze()
