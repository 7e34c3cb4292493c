"""Console index jobs: the list (optionally one repository's), one job with its per-file errors,
and ``progress.json``, which ``console.js`` polls about once a second while a job is queued or
running, so the pages update without a reload.

Jobs are read through ``codeindex.services`` (``jobs``, ``job``) with the operator's view; a job
id that does not exist is a 404.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.views.generic import TemplateView, View

from codeindex import services as codeindex
from codeindex.exceptions import InvalidArgument

from ..filters import IndexJobFilterForm
from ..index_jobs import ERRORS_PER_PAGE, OPERATOR_ACCESS, file_errors, progress_document
from ..permissions import OperatorRequiredMixin
from .base import ConsoleListView

#: The job list reaches back this many jobs (the most the engine lists at once).
MAX_JOBS = 200


def _job_or_404(pk: int) -> codeindex.JobInfo:
    try:
        return codeindex.job(pk, access=OPERATOR_ACCESS)
    except InvalidArgument:
        raise Http404(f"No index job {pk}.") from None


class JobListView(ConsoleListView):
    """The newest ``MAX_JOBS`` jobs (``?repository=`` and ``?status=`` narrow them), 50 a page."""

    template_name = "console/indexjob_list.html"
    section = "jobs"

    def get_queryset(self):
        names = [repo.name for repo in codeindex.status(access=OPERATOR_ACCESS)]
        self.filter_form = IndexJobFilterForm(self.request.GET or None, repositories=names)
        jobs = codeindex.jobs(access=OPERATOR_ACCESS, repository=self.filter_form.chosen_repository(), limit=MAX_JOBS)
        return self.filter_form.filter(jobs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(max_jobs=MAX_JOBS, **kwargs)
        page = context["object_list"]
        context["rows"] = [(progress_document(job, errors_limit=0), job.requested_by) for job in page]
        return context


class JobDetailView(OperatorRequiredMixin, TemplateView):
    """One job: state, counts, progress bar, timings, report, per-file errors (``?errors_page=``)."""

    template_name = "console/indexjob_detail.html"

    def get_context_data(self, pk, **kwargs):
        job = _job_or_404(pk)
        errors = Paginator(file_errors(job), ERRORS_PER_PAGE).get_page(self.request.GET.get("errors_page"))
        return super().get_context_data(
            job=job, progress=progress_document(job, errors_limit=0), errors=errors, section="jobs", **kwargs,
        )


class JobProgressView(OperatorRequiredMixin, View):
    """GET ``progress.json``: ``console.index_jobs.progress_document`` of the job, never cached."""

    http_method_names = ["get"]

    def get(self, request, pk):
        return JsonResponse(progress_document(_job_or_404(pk)))  # never cached: OperatorRequiredMixin
