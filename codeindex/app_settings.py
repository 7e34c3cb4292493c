"""codeindex's knobs, read lazily from Django settings (so ``override_settings`` takes effect).

Only ``mcprag_site/settings.py`` reads the environment, and it gives every ``MCPRAG_*`` knob its
default; codeindex modules read their settings through ``app_settings`` here, e.g.
``app_settings.MAX_FILE_BYTES``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

__all__ = ["app_settings"]


class _AppSettings:
    @property
    def MAX_FILE_BYTES(self) -> int:
        """Files larger than this many bytes are skipped (reason ``too_large``)."""
        return int(settings.MCPRAG_MAX_FILE_BYTES)

    @property
    def PERIODIC_TASKS(self) -> bool:
        """Without a broker, the server's worker thread runs ``CELERY_BEAT_SCHEDULE`` (``worker.run_due_periodic``)."""
        return bool(settings.MCPRAG_PERIODIC_TASKS)

    @property
    def EMBEDDINGS(self) -> str:
        """Embedding provider: ``local`` (MiniLM shipped in a PyPI package), ``openai`` or ``none``."""
        return str(settings.MCPRAG_EMBEDDINGS)

    @property
    def EMBEDDINGS_URL(self) -> str:
        """Base URL of an OpenAI-compatible server (``POST <url>/v1/embeddings``)."""
        return str(settings.MCPRAG_EMBEDDINGS_URL).rstrip("/")

    @property
    def EMBEDDINGS_MODEL(self) -> str:
        return str(settings.MCPRAG_EMBEDDINGS_MODEL)

    @property
    def EMBEDDINGS_API_KEY(self) -> str:
        return str(settings.MCPRAG_EMBEDDINGS_API_KEY)

    @property
    def EMBEDDING_BATCH_SIZE(self) -> int:
        return int(settings.MCPRAG_EMBEDDING_BATCH_SIZE)

    @property
    def EMBEDDING_THREADS(self) -> int:
        """torch threads for bulk embedding; 0: one per core."""
        return int(getattr(settings, "MCPRAG_EMBEDDING_THREADS", 0))

    @property
    def EMBEDDING_MAX_TOKENS(self) -> int:
        """Word pieces the local model reads per text (MiniLM's own limit is 256)."""
        return int(getattr(settings, "MCPRAG_EMBEDDING_MAX_TOKENS", 256))

    @property
    def EMBEDDING_QUANTIZE(self) -> bool:
        """Run the local model with int8 dynamic quantisation of its linear layers (torch's own)."""
        return bool(getattr(settings, "MCPRAG_EMBEDDING_QUANTIZE", False))

    @property
    def EMBEDDING_QUERY_ADAPTER(self) -> bool:
        """Encode queries with the local model's query tower (``embeddings.query_tower``)."""
        return bool(getattr(settings, "MCPRAG_EMBEDDING_QUERY_ADAPTER", True))

    @property
    def EMBEDDING_DTYPE(self) -> str:
        """The local model's number format: "auto", "float32" or "bfloat16"."""
        return str(getattr(settings, "MCPRAG_EMBEDDING_DTYPE", "auto"))

    @property
    def FUSION_DENSE_WEIGHT(self) -> float:
        """Weight of the dense signal in linear min-max fusion (chosen on bench/retrieval.py)."""
        return float(settings.MCPRAG_FUSION_DENSE_WEIGHT)

    @property
    def DENSE_ENGINE(self) -> str:
        """``auto`` (pgvector where the database has it enabled, else in memory) or ``memory``
        (always the in-memory engine; vectors are still written to pgvector when it is enabled)."""
        return str(getattr(settings, "MCPRAG_DENSE_ENGINE", "auto"))

    @property
    def CLONE_DIR(self) -> Path:
        """Where git repositories are cloned, one directory per repository name."""
        return Path(settings.MCPRAG_CLONE_DIR)

    @property
    def SOURCE_ROOTS(self) -> tuple[str, ...]:
        """Absolute directories under which remote callers may index server paths (realpath'd);
        empty: remote callers cannot index any server path (``source_policy``)."""
        return tuple(os.path.realpath(root) for root in getattr(settings, "MCPRAG_SOURCE_ROOTS", ()) if os.path.isabs(root))

    @property
    def GIT_ALLOWED_HOSTS(self) -> tuple[str, ...]:
        """Git hosts remote callers may clone from, in ``ALLOWED_HOSTS`` syntax (``.example.com``,
        ``*``); listed hosts may resolve to private addresses. Empty: any host with only public addresses."""
        return tuple(str(host).strip().lower() for host in getattr(settings, "MCPRAG_GIT_ALLOWED_HOSTS", ()) if str(host).strip())


app_settings = _AppSettings()
