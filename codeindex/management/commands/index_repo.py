"""``manage.py index_repo PATH [--name NAME]``: index a local directory, with a progress bar.

Prints a tqdm bar on stderr while it runs, then one summary paragraph on stdout. A refused
request (missing path, bad name) exits with status 1 and one line, without a traceback.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from codeindex.exceptions import CodeIndexError
from codeindex.services import IndexReport, index_repository

__all__ = ["Command"]

_MAX_ERRORS_SHOWN = 10


class Command(BaseCommand):
    help = "Index a local directory for code search (honours .gitignore; skips binary and huge files)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Directory to index.")
        parser.add_argument("--name", help="Repository name (letters, digits, - and _). Default: the directory's name.")

    def handle(self, *args, path: str, name: str | None, **options):
        name = name or Path(path).expanduser().resolve().name
        # tqdm draws with "\r" on the raw stream: Django's OutputWrapper would add a newline to
        # every write. disable=None turns the bar off when stderr is not a terminal (logs, CI).
        with tqdm(desc=f"indexing {name}", unit="file", file=self.stderr._out, disable=None) as bar:
            try:
                report = index_repository(path, name, progress=_updater(bar))
            except CodeIndexError as exc:
                raise CommandError(str(exc)) from None
        self.stdout.write(summary(report))
        for path, message in report.errors[:_MAX_ERRORS_SHOWN]:
            self.stderr.write(f"  {path}: {message}")
        if len(report.errors) > _MAX_ERRORS_SHOWN:
            self.stderr.write(f"  … and {len(report.errors) - _MAX_ERRORS_SHOWN} more")


def _updater(bar: tqdm):
    def update(done: int, total: int, path: str) -> None:
        if bar.total != total:
            bar.reset(total=total)
            bar.update(done)
        else:
            bar.update(done - bar.n)
        bar.set_postfix_str(path[-40:], refresh=False)

    return update


def summary(report: IndexReport) -> str:
    """One paragraph, e.g. "Indexed django: 2,810 files seen (12 new, …); 341 chunks written in 4.2 s."."""
    skipped = sum(report.files_skipped.values())
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in sorted(report.files_skipped.items()))
    return (
        f"Indexed {report.repository}: {report.files_seen:,} files seen "
        f"({report.files_new:,} new, {report.files_changed:,} changed, {report.files_unchanged:,} unchanged, "
        f"{skipped:,} skipped{f': {reasons}' if reasons else ''}); {report.files_deleted:,} deleted; "
        f"{report.chunks_written:,} chunks written in {report.duration_ms / 1000:.1f} s; "
        f"{len(report.errors):,} error{'s' if len(report.errors) != 1 else ''}."
    )
