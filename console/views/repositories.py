"""Console repositories: what is indexed, how big, and how fresh (``codeindex.services.status``).

Index jobs (live progress, per-file errors, starting a re-index) come with the retrieval-engine
issue's IndexJob; this page will link to them then.
"""

from __future__ import annotations

from django.views.generic import TemplateView

from codeindex import services as codeindex

from ..permissions import OperatorRequiredMixin


class RepositoryListView(OperatorRequiredMixin, TemplateView):
    template_name = "console/repository_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(repositories=codeindex.status(), section="repositories", **kwargs)
