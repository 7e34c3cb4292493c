"""The shared list page: a queryset, a filter form, pagination; subclasses only declare them."""

from __future__ import annotations

from django.views.generic import ListView

from ..agent_labels import agents_by_client_id
from ..permissions import OperatorRequiredMixin

__all__ = ["ConsoleListView", "PAGE_SIZE"]

PAGE_SIZE = 50


class ConsoleListView(OperatorRequiredMixin, ListView):
    """Declare ``queryset`` (or ``base_queryset()``), ``filter_form_class`` and ``template_name``."""

    filter_form_class = None
    paginate_by = PAGE_SIZE
    section = ""

    def base_queryset(self):
        return super().get_queryset()

    def get_queryset(self):
        self.filter_form = self.filter_form_class(self.request.GET or None)
        return self.filter_form.filter(self.base_queryset())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(filter_form=self.filter_form, section=self.section, **kwargs)
        rows = context.get("object_list") or []
        if rows and hasattr(rows[0], "client_id"):  # name every agent on the page with one query
            context["agents_by_id"] = agents_by_client_id(row.client_id for row in rows)
        return context
