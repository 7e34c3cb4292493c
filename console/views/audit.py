"""Console audit browser: tool calls, auth events and operator actions; filtered, paginated, CSV."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.utils import timezone
from django.views.generic import View

from mcp_gateway.models import ToolCall
from oauth_app.models import AuthEvent

from ..exports import AUTH_EVENT_COLUMNS, OPERATOR_ACTION_COLUMNS, TOOL_CALL_COLUMNS, csv_response
from ..filters import AuthEventFilterForm, OperatorActionFilterForm, ToolCallFilterForm
from ..models import OperatorAction
from ..permissions import OperatorRequiredMixin
from .base import ConsoleListView


class ToolCallListView(ConsoleListView):
    template_name = "console/toolcall_list.html"
    queryset = ToolCall.objects.order_by("-at", "-id")
    filter_form_class = ToolCallFilterForm
    section = "audit"


class AuthEventListView(ConsoleListView):
    template_name = "console/authevent_list.html"
    queryset = AuthEvent.objects.select_related("user").order_by("-at", "-id")
    filter_form_class = AuthEventFilterForm
    section = "audit"


class OperatorActionListView(ConsoleListView):
    template_name = "console/operatoraction_list.html"
    queryset = OperatorAction.objects.select_related("person").order_by("-at", "-id")
    filter_form_class = OperatorActionFilterForm
    section = "audit"


class _ExportView(OperatorRequiredMixin, View):
    """The list's queryset and filters, as a streamed CSV download."""

    http_method_names = ["get"]
    list_view = None
    columns: list[str] = []
    name = ""

    def get(self, request):
        form = self.list_view.filter_form_class(request.GET or None)
        if form.is_bound and not form.is_valid():
            # The list page shows such filters as not applied; a download must not quietly hold every row.
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
            return HttpResponseBadRequest(f"These filters are not valid, so nothing was exported: {problems}\n",
                                          content_type="text/plain; charset=utf-8")
        rows = form.filter(self.list_view.queryset.all())
        return csv_response(rows, self.columns, f"mcprag-{self.name}-{timezone.now():%Y%m%d-%H%M%S}.csv")


class ToolCallExportView(_ExportView):
    list_view, columns, name = ToolCallListView, TOOL_CALL_COLUMNS, "tool-calls"


class AuthEventExportView(_ExportView):
    list_view, columns, name = AuthEventListView, AUTH_EVENT_COLUMNS, "auth-events"


class OperatorActionExportView(_ExportView):
    list_view, columns, name = OperatorActionListView, OPERATOR_ACTION_COLUMNS, "operator-actions"
