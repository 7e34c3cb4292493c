"""Console overview: tool usage, latency, errors, active agents and index freshness for a date range."""

from __future__ import annotations

from django.views.generic import TemplateView

from .. import metrics
from ..charts import overview_charts
from ..forms import DateRangeForm
from ..permissions import OperatorRequiredMixin


class OverviewView(OperatorRequiredMixin, TemplateView):
    template_name = "console/toolcall_overview.html"

    def get_context_data(self, **kwargs):
        form = DateRangeForm(self.request.GET or None)
        start, end = form.dates()
        if not form.is_bound:
            form = DateRangeForm(initial={"start": start, "end": end})
        report = metrics.overview(start, end)
        return super().get_context_data(form=form, report=report, charts=overview_charts(report), section="overview", **kwargs)
