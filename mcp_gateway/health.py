"""Component checks behind the ``health_check`` tool."""

from __future__ import annotations

from mcprag_site import __version__

from django.db import DatabaseError, connection

from codeindex import services

from .tools.schemas import HealthStatus


def check() -> HealthStatus:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except DatabaseError as exc:
        database = f"error: {exc.__class__.__name__}"
    try:
        repositories = len(services.status())
        services.search("health check probe", max_results=1)
        lexical = "ok"
    except Exception as exc:  # reported, not raised: this is the health check
        repositories, lexical = 0, f"error: {exc.__class__.__name__}"
    status = "ok" if database == "ok" and lexical == "ok" else "degraded"
    return HealthStatus(status=status, database=database, lexical_index=lexical, repositories=repositories, version=__version__)
