"""``manage.py index_repo SOURCE [--name NAME] [--branch BRANCH] [--embeddings background|now|skip]
[--replace]``: index a local directory or a git URL, with a progress bar per phase.

A git URL (``https://``, ``ssh://``, ``user@host:path``, ``file://``) is cloned into
``MCPRAG_CLONE_DIR/NAME`` (on ``--branch``, else the remote's default branch) and kept in sync
from there. ``NAME`` defaults to the directory's name, or to the URL's last path segment without
``.git``.

Prints one tqdm bar per phase on stderr while it runs (reading files, chunking and lexical
indexing, and with ``--embeddings now`` embedding chunks), each with its counts, rate and the
file being handled (never a skipped one), then one summary paragraph on stdout. The repository is
searchable when the command returns. By default (``background``) the chunks' vectors are left to
an embeddings job: a Celery worker takes it at once when ``REDIS_URL`` is set, otherwise the
server's own worker when it starts; search uses the dense signal for the chunks embedded so far.
A refused request (missing path, bad name) exits with status 1 and one line, without a traceback;
so does a job that failed (its reason, "internal error" for an unexpected one); a new repository whose first job failed (a git URL that cannot be fetched, an empty repository)
is not kept.

An indexed repository is re-indexed from its own source: giving its name with another directory or
URL is refused, naming the source it has, unless ``--replace`` points it at the new source from
now on (its files not in the new source are deleted, its old clone and credential dropped; its
visibility, groups, sync settings and webhook stay).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from codeindex.exceptions import CodeIndexError, InvalidRepositoryName, RepositoryExists
from codeindex.progress import LABELS, UNITS
from codeindex.worker import broker_configured
from codeindex.services import IndexReport, index_repository, name_for_source

__all__ = ["Command"]

_MAX_ERRORS_SHOWN = 10


class Command(BaseCommand):
    help = ("Index a local directory or a git repository for code search (honours .gitignore; skips binary and "
            "huge files).")

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="SOURCE",
                            help="Directory to index, or a git URL (https://, ssh://, user@host:path or file://) to clone "
                                 "and index.")
        parser.add_argument("--name", help="Repository name (letters, digits, - and _). Default: the directory's name, "
                                           "or the git URL's last path segment without .git.")
        parser.add_argument("--branch", help="git sources: the branch to index and keep in sync. Default: the branch "
                                             "the repository has, else the remote's default branch.")
        parser.add_argument(
            "--embeddings", choices=["background", "now", "skip"], default="background",
            help="background (default): return once search works lexically and leave the vectors to a background "
                 "job (a Celery worker, or the server's worker when it starts); now: embed before returning; "
                 "skip: queue nothing (backfill_embeddings later).")
        parser.add_argument(
            "--replace", action="store_true",
            help="The repository NAME exists with another source: index SOURCE instead and keep it as its source from now "
                 "on (files not in SOURCE are deleted; the old clone and credential are dropped). Without it, another "
                 "source is refused.")

    def handle(self, *args, path: str, name: str | None, embeddings: str, replace: bool = False,
               branch: str | None = None, **options):
        named, name = bool(name), name or name_for_source(path)
        bars = _PhaseBars(self.stderr._out)
        try:
            report = index_repository(path, name, progress=bars.update, embeddings=embeddings, replace=replace, branch=branch)
        except RepositoryExists as exc:
            raise CommandError(f"{exc} (or --replace to index {path!r} as {name!r} from now on)") from None
        except InvalidRepositoryName as exc:
            raise CommandError(str(exc) if named else f"{exc}; give the name with --name") from None
        except CodeIndexError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bars.close()
        self.stdout.write(summary(report))
        if report.embeddings_job:
            where = ("a Celery worker is computing them" if broker_configured()
                     else "the server computes them when it starts (manage.py runserver, daphne or ./demo.sh)")
            self.stdout.write(f"Embeddings: job {report.embeddings_job} queued; {where}. Search is lexical until then, "
                              "and index_status shows the coverage.")
        elif report.embedding_error:
            self.stdout.write(f"Embeddings: none written ({report.embedding_error}).")
        for path, message in report.errors[:_MAX_ERRORS_SHOWN]:
            self.stderr.write(f"  {path}: {message}")
        if len(report.errors) > _MAX_ERRORS_SHOWN:
            self.stderr.write(f"  … and {len(report.errors) - _MAX_ERRORS_SHOWN} more")


class _PhaseBars:
    """One tqdm bar per phase (``codeindex.progress``), each opened when its phase starts with the
    phase's total, so no bar ever goes back; the postfix names the file being handled.

    tqdm draws with "\\r" on the raw stream: Django's OutputWrapper would add a newline to every
    write. disable=None turns the bars off when stderr is not a terminal (logs, CI)."""

    def __init__(self, stream):
        self.stream = stream
        self.bars: dict[str, tqdm] = {}

    def update(self, phase: str, done: int, total: int, path: str) -> None:
        bar = self.bars.get(phase)
        if bar is None:
            for other in self.bars.values():
                other.close()
            bar = self.bars[phase] = tqdm(desc=f"{LABELS.get(phase, phase):<30}", total=total, unit=UNITS.get(phase, "item"),
                                          file=self.stream, disable=None, dynamic_ncols=True)
        if total > (bar.total or 0):
            bar.total = total
        if done > bar.n:
            bar.update(done - bar.n)
        if path:
            bar.set_postfix_str(path[-40:], refresh=False)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


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
