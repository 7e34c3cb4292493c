"""Console: one git repository's freshness — source, branch, indexed commit, sync settings and
outcome, push webhook (URL, a new secret shown once, the last deliveries) and the private-source
credential. Every change is a CSRF-checked POST through ``codeindex.services``; secrets are never
put back on a page, in a message or in a log (a new webhook secret is rendered once, in the
answer to the POST that created it)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import TemplateView

from codeindex import services as codeindex
from codeindex.choices import CredentialKind
from codeindex.exceptions import CodeIndexError

from ..permissions import OperatorRequiredMixin

__all__ = ["RepositoryFreshnessView"]

log = logging.getLogger(__name__)


class RepositoryFreshnessView(OperatorRequiredMixin, TemplateView):
    template_name = "console/repository_freshness.html"

    def get_context_data(self, **kwargs):
        try:
            repository = codeindex.freshness_of(self.kwargs["name"])
        except CodeIndexError:
            raise Http404("no such repository") from None
        hook = self.request.build_absolute_uri(reverse("git-push-hook", args=[repository.name]))
        return super().get_context_data(repo=repository, hook_url=hook, deliveries=codeindex.recent_deliveries(repository.name),
                                        credential_kinds=CredentialKind.choices, section="repositories", **kwargs)

    def post(self, request, name):
        action = request.POST.get("action", "")
        operator = request.user.get_username()
        try:
            if action == "settings":
                codeindex.configure_sync(name, interval_minutes=_int(request.POST.get("interval")), branch=request.POST.get("branch", "").strip(),
                                         history_depth=_int(request.POST.get("depth")))
                messages.success(request, "Sync settings saved (a new branch is fetched by the next sync).")
            elif action == "sync":
                job = codeindex.sync_now(name, requested_by=f"{operator} via console")
                messages.success(request, f"Sync started as job {job}." if job else "A job is running; the sync follows it.")
            elif action == "webhook":
                secret = codeindex.new_webhook_secret(name)
                log.info("webhook secret of %s replaced by %s", name, operator)
                context = self.get_context_data(name=name)
                return render(request, self.template_name, {**context, "new_secret": secret})
            elif action == "credential":
                kind = request.POST.get("kind", "")
                codeindex.set_repository_credential(name, kind, request.POST.get("secret", ""))
                log.info("credential of %s %s by %s", name, f"set ({kind})" if kind else "removed", operator)
                messages.success(request, "Credential saved (encrypted)." if kind else "Credential removed.")
            else:
                messages.error(request, "Unknown action.")
        except CodeIndexError as exc:
            messages.error(request, f"Not saved: {exc}.")
        return redirect("console:repository-freshness", name=name)


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return -1  # refused by the service with the allowed range
