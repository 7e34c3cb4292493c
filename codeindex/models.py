"""What the index stores: repositories, their source files, and the chunks search returns.

A ``Chunk`` is the unit of retrieval: a function, method, class header, run of module-level code
or window of lines, with 1-based inclusive line numbers into its file. The lexical index over
chunks lives in vendor-specific objects created by migration ``0002_lexical_index`` (see
``lexical.py``); the ORM never writes them directly.
"""

from __future__ import annotations

from django.db import models

from .choices import ACTIVE_JOB_STATUSES, ChunkKind, CredentialKind, FeedbackKind, JobKind, JobStatus, Language, SkipReason, Visibility

__all__ = [
    "Repository", "WebhookDelivery", "SourceFile", "FileText", "SkippedFile", "Chunk", "ChunkVector", "ImportEdge", "IndexJob", "SearchFeedback",
]


class Repository(models.Model):
    """A directory tree indexed under a short unique name, e.g. ``django`` → ``/srv/src/django``.

    ``file_count`` and ``chunk_count`` are as of ``last_indexed_at`` (None until the first run
    completes); ``skipped_counts`` maps a ``SkipReason`` value to how many files the last run
    left out for it, e.g. ``{"binary": 12, "too_large": 1}``.
    """

    name = models.SlugField(max_length=100, unique=True)
    root_path = models.TextField(help_text="Absolute path of the directory that was indexed.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_indexed_at = models.DateTimeField(null=True, blank=True)
    file_count = models.PositiveIntegerField(default=0)
    chunk_count = models.PositiveIntegerField(default=0)
    skipped_counts = models.JSONField(default=dict, blank=True)
    source_url = models.TextField(blank=True, default="", help_text="Git URL the tree is cloned from; empty for a local directory.")
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.EVERYONE)
    groups = models.ManyToManyField(
        "auth.Group", blank=True, related_name="code_repositories",
        help_text="With visibility 'groups': the Django groups whose members may see this repository.",
    )
    generation = models.PositiveBigIntegerField(
        default=0, help_text="Bumped whenever chunks or vectors change; in-memory caches reload on a new value."
    )
    # -- revision and freshness (git sources) ------------------------------------------------------
    branch = models.CharField(max_length=255, blank=True, default="",
                              help_text="Branch indexed; empty until the first fetch records the remote's default branch.")
    indexed_commit = models.CharField(max_length=40, blank=True, default="", help_text="Full SHA of the commit indexed; empty if unknown.")
    indexed_dirty = models.BooleanField(
        default=False, help_text="The working tree indexed had uncommitted changes or untracked files: its text is not indexed_commit's.")
    fetched_at = models.DateTimeField(null=True, blank=True, help_text="When the source was last fetched successfully.")
    sync_interval_minutes = models.PositiveIntegerField(default=10, help_text="Scheduled fetch interval; 0 = never.")
    history_depth = models.PositiveIntegerField(default=1000, help_text="Commits of history kept in the partial clone.")
    sync_attempted_at = models.DateTimeField(null=True, blank=True, help_text="When a sync was last started (due time).")
    sync_requested = models.BooleanField(default=False, help_text="A push arrived while a job ran: sync again when it ends.")
    sync_error = models.TextField(blank=True, default="", help_text="Why the last sync failed; empty after a good one.")
    sync_error_at = models.DateTimeField(null=True, blank=True)
    sync_note = models.TextField(blank=True, default="", help_text="What the last sync did (files changed, or a full re-sync and why).")
    webhook_secret_sealed = models.TextField(blank=True, default="", help_text="Push webhook secret, encrypted (codeindex.sealed).")
    credential_kind = models.CharField(max_length=16, choices=CredentialKind.choices, blank=True, default="")
    credential_sealed = models.TextField(blank=True, default="", help_text="HTTPS token or SSH deploy key, encrypted (codeindex.sealed).")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.name

    @property
    def skipped_count(self) -> int:
        """Files the last run left out, all reasons together."""
        return sum(self.skipped_counts.values())


class WebhookDelivery(models.Model):
    """One push webhook delivery received for a repository (the newest are kept, see ``sync``).

    ``delivery_id`` is the sender's id for the delivery (``X-GitHub-Delivery``, GitLab's
    ``Idempotency-Key``/``X-Gitlab-Event-UUID``, ``X-Gitea-Delivery``): a second delivery with the
    same id is a replay and is ignored. The id is not covered by the signature, so ``body_sha256``
    (the signed body's SHA-256, hex) is unique too: the same body under a new id, or none, is a
    replay as well. ``outcome`` says what was done (sync started, ignored and why).
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=200)
    provider = models.CharField(max_length=16)
    event = models.CharField(max_length=100, blank=True, default="")
    ref = models.CharField(max_length=300, blank=True, default="")
    after = models.CharField(max_length=64, blank=True, default="")
    body_sha256 = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256 of the signed body, hex; empty on rows from before it was kept.")
    outcome = models.CharField(max_length=300, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "delivery_id"], name="codeindex_delivery_unique_id"),
            models.UniqueConstraint(fields=["repository", "body_sha256"], condition=~models.Q(body_sha256=""),
                                    name="codeindex_delivery_unique_body"),
        ]


class SourceFile(models.Model):
    """One indexed file: relative posix ``path`` (``pkg/mod.py``), sha256 of its bytes, sizes."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="files")
    path = models.TextField()
    language = models.CharField(max_length=16, choices=Language.choices)
    content_hash = models.CharField(max_length=64, help_text="sha256 of the file's bytes, hex.")
    size_bytes = models.PositiveIntegerField()
    line_count = models.PositiveIntegerField()
    indexed_at = models.DateTimeField(help_text="When this content was last chunked.")

    class Meta:
        ordering = ["repository", "path"]
        constraints = [models.UniqueConstraint(fields=["repository", "path"], name="codeindex_sourcefile_unique_path")]

    def __str__(self) -> str:
        return f"{self.repository_id}:{self.path}"


class FileText(models.Model):
    """The text of an indexed file as it was indexed (``\\n`` line ends), so reading and grep never
    go back to the source directory and always match what search returned.

    Written in the transaction that replaces the file's chunks. On SQLite ``data`` holds the
    UTF-8 text compressed with zlib and ``text`` is empty; on PostgreSQL ``text`` holds it (the
    server compresses it with TOAST, and the ``pg_trgm`` index reads it) and ``data`` is null.
    ``codeindex.navigation.store`` is the only writer and reader.
    """

    file = models.OneToOneField(SourceFile, primary_key=True, on_delete=models.CASCADE, related_name="stored")
    data = models.BinaryField(null=True, blank=True)
    text = models.TextField(blank=True, default="")


class SkippedFile(models.Model):
    """A file the last indexing run left out, and why (a ``SkipReason`` value)."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="skipped_files")
    path = models.TextField()
    reason = models.CharField(max_length=16, choices=SkipReason.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repository", "path"], name="codeindex_skippedfile_unique_path")]


class Chunk(models.Model):
    """A retrievable piece of a file, lines ``start_line``..``end_line`` (1-based, inclusive).

    ``symbol`` is the qualified name (``Outer.method``) for syntax chunks and "" for windows and
    module-level code. ``path`` and ``language`` repeat the file's so search filters need no join.
    ``search_context`` (path and enclosing names), ``search_name`` (the symbol's own name) and
    ``search_text`` (content) are the word streams the lexical index reads, identifiers split
    (``lexical.document_fields``).
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="chunks")
    file = models.ForeignKey(SourceFile, on_delete=models.CASCADE, related_name="chunks")
    path = models.TextField()
    language = models.CharField(max_length=16, choices=Language.choices)
    kind = models.CharField(max_length=16, choices=ChunkKind.choices)
    symbol = models.TextField(blank=True, default="")
    start_line = models.PositiveIntegerField()
    end_line = models.PositiveIntegerField()
    content = models.TextField()
    search_context = models.TextField(blank=True, default="")
    search_name = models.TextField(blank=True, default="")
    search_text = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["repository", "language"], name="codeindex_chunk_repo_lang")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_line__gte=1, end_line__gte=models.F("start_line")),
                name="codeindex_chunk_line_range",
            )
        ]

    def __str__(self) -> str:
        where = f"{self.path}:{self.start_line}-{self.end_line}"
        return f"{where} {self.symbol}" if self.symbol else where


class ChunkVector(models.Model):
    """A chunk's embedding: ``dim`` float32 values (little-endian bytes), L2-normalised.

    ``text_hash`` is the sha256 of the text that was embedded (path, qualified name and code), so
    a re-chunked file reuses the vectors of unchanged pieces and ``validate_embeddings`` can tell
    stale vectors. ``model`` names the provider's model; vectors of another model are ignored.
    """

    chunk = models.OneToOneField(Chunk, primary_key=True, on_delete=models.CASCADE, related_name="vector")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=100)
    dim = models.PositiveSmallIntegerField()
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    #: Whether the chunk's file is a test file (``testpaths.is_test_path`` when the vector was stored):
    #: on pgvector, the vectors outside test files have an HNSW index of their own for ``exclude_tests``.
    in_tests = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["repository", "model"], name="codeindex_vector_repo_model"),
            models.Index(fields=["repository", "text_hash"], name="codeindex_vector_repo_hash"),
        ]


class ImportEdge(models.Model):
    """``source`` imports ``module`` (as written: ``..utils``, ``./router``, ``net/http``); ``target``
    is the indexed file it resolves to, or None for a third-party or unresolved import."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(SourceFile, on_delete=models.CASCADE, related_name="imports")
    module = models.TextField()
    target = models.ForeignKey(SourceFile, null=True, blank=True, on_delete=models.SET_NULL, related_name="imported_by")

    class Meta:
        indexes = [models.Index(fields=["repository", "target"], name="codeindex_import_repo_target")]


class IndexJob(models.Model):
    """One indexing run of a repository, from queued to complete or failed.

    Only ``codeindex.jobs`` writes ``status`` (``JobStatus``); ``complete`` is set by the runner's
    terminate step alone, after the work has finished. Progress counts (``*_done`` of
    ``*_total``; ``chunks_*`` count chunks embedded) and the phase counts (``phase``, ``phases``:
see ``codeindex.progress``) are written while it runs, and only ever grow; ``errors`` lists ``{"path", "message"}`` per file that
    could not be indexed; ``timings`` maps a phase (``walk``, ``chunk``, ``embed``, ``imports``)
    to milliseconds; ``report`` holds the final ``IndexReport`` as JSON. At most one queued or
    running index job (full or changed files) and at most one embeddings job exist per repository
(partial unique constraints).
    """

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices, default=JobKind.FULL)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    source = models.TextField(help_text="Directory or git URL indexed.")
    paths = models.JSONField(default=list, blank=True, help_text="For changed_files jobs: the relative paths.")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last progress write while running.")
    worker = models.CharField(max_length=255, blank=True, default="", help_text="host:pid of the process running it.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started it.")
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    current_path = models.TextField(blank=True, default="")
    phase = models.CharField(max_length=16, blank=True, default="", help_text="The phase running now (files, chunks, embeddings).")
    phases = models.JSONField(default=dict, blank=True, help_text='Per phase: {"files": {"done": 84, "total": 200}, …}.')
    errors = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, default="", help_text="Why it failed, or a one-line summary.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # one index job (full or changed files) and one embeddings job at a time per repository:
            # a re-index may start while the previous run's vectors are still being computed
            models.UniqueConstraint(
                fields=["repository"], condition=models.Q(status__in=ACTIVE_JOB_STATUSES) & ~models.Q(kind="embeddings"),
                name="codeindex_indexjob_one_active_per_repository",
            ),
            models.UniqueConstraint(
                fields=["repository"], condition=models.Q(status__in=ACTIVE_JOB_STATUSES, kind="embeddings"),
                name="codeindex_indexjob_one_active_embedding_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} on {self.repository_id}: {self.status}"


class SearchFeedback(models.Model):
    """One signal about a search result, identified by repository, path and symbol (chunk ids
    change on re-index). ``value`` is +1 / -1 for clicks and outcomes, -1.0 … +1.0 for ratings.
    ``query_key`` is the sha256 of the query's search terms, so one query's feedback counts
    more for that query than for others."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="feedback")
    query = models.TextField()
    query_key = models.CharField(max_length=64)
    path = models.TextField()
    symbol = models.TextField(blank=True, default="")
    kind = models.CharField(max_length=16, choices=FeedbackKind.choices)
    value = models.FloatField()
    comment = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["repository", "path"], name="codeindex_feedback_repo_path")]

from .symbols.models import Occurrence, Symbol  # noqa: E402,F401  (the navigation tables; see that module)
