"""CSV exports of the audit trail, streamed row by row (an export never loads the table in memory).

Cells that a spreadsheet would run as a formula (starting with ``= + - @`` or a tab/CR) are
prefixed with ``'`` — client names and metadata come from self-registered clients (OWASP
"CSV Injection").

The ``agent`` column names the agent as ``name (short id · redirect host · registration date)``,
so two agents with the same name can be told apart in a spreadsheet.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from .agent_labels import agent_label, agents_by_client_id

__all__ = ["TOOL_CALL_COLUMNS", "AUTH_EVENT_COLUMNS", "OPERATOR_ACTION_COLUMNS", "csv_response", "safe_cell"]

TOOL_CALL_COLUMNS = ["at", "username", "user_id", "client_id", "agent", "tool", "transport", "outcome", "error_class",
                     "duration_ms", "arguments_sha256", "arguments_bytes", "result_bytes"]
AUTH_EVENT_COLUMNS = ["at", "kind", "user_id", "username", "client_id", "agent", "ip", "error", "detail"]
OPERATOR_ACTION_COLUMNS = ["at", "kind", "operator_username", "person", "client_id", "agent", "reason", "detail"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, sort_keys=True)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value):
        return value


def _value(row, column: str, agents: dict):
    if column == "agent":  # name (short id · redirect host · registration date), looked up once per agent
        if row.client_id not in agents:
            agents.update(agents_by_client_id([row.client_id]) or {row.client_id: None})
        return agent_label(agents[row.client_id], row.client_id) if row.client_id else ""
    if column == "username" and not hasattr(row, "username"):
        return row.user.get_username() if row.user_id else ""
    if column == "person":
        return row.person.get_username() if row.person_id else ""
    return getattr(row, column)


def _rows(queryset, columns: list[str]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    agents: dict = {}
    for row in queryset.iterator(chunk_size=2000):
        yield writer.writerow([safe_cell(_value(row, c, agents)) for c in columns])


def csv_response(queryset: Iterable, columns: list[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_rows(queryset, columns), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'  # no-store: OperatorRequiredMixin
    return response
