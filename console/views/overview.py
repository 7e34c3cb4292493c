"""Console overview: tool usage, latency, errors, the busiest agents and people, and index freshness
for a range preset (24 h, 7, 30 or 90 days) or chosen dates."""

from __future__ import annotations

from django.views.generic import TemplateView

from .. import metrics
from ..agent_labels import agents_by_client_id
from ..charts import overview_charts
from ..forms import RANGE_PRESETS, DateRangeForm
from ..permissions import OperatorRequiredMixin


class OverviewView(OperatorRequiredMixin, TemplateView):
    template_name = "console/toolcall_overview.html"

    def get_context_data(self, **kwargs):
        form = DateRangeForm(self.request.GET or None)
        preset, hours, days = form.choice()
        report = metrics.overview_hours(hours) if hours else metrics.overview(*days)
        if not form.is_bound or form.errors:
            form.initial.update(start=report.start, end=report.end, range=preset)
        presets = [(key, label) for key, (label, _, _) in RANGE_PRESETS.items()]
        return super().get_context_data(form=form, report=report, charts=overview_charts(report), section="overview",
                                        preset=preset, presets=presets,
                                        agents_by_id=agents_by_client_id(a.client_id for a in report.agents), **kwargs)
