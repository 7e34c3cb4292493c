"""The OpenAI-compatible embedding provider against a real local HTTP server (no mocks)."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from codeindex.access import SYSTEM
from codeindex.embeddings import from_bytes, get_provider
from codeindex.models import Chunk, ChunkVector
from codeindex.services import SearchRequest, health, index_repository, search_page

pytestmark = pytest.mark.django_db

QUERY = "where do we compute the shipping surcharge for an order"


def fake_vector(text: str) -> list[float]:
    """Deterministic 4-d vectors: each marker owns an axis; the query sits next to BETAVEC."""
    if text == QUERY:
        return [0.05, 1.0, 0.0, 0.0]
    if "ALPHAVEC" in text:
        return [1.0, 0.0, 0.0, 0.0]
    if "BETAVEC" in text:
        return [0.0, 1.0, 0.0, 0.0]
    return [0.0, 0.0, 0.0, 1.0]


class FakeEmbeddings(BaseHTTPRequestHandler):
    requests: list  # set per server

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t)} for i, t in enumerate(body["input"])]
        data.reverse()  # the provider must order by "index", not by position
        payload = json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEmbeddings)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def openai_settings(settings, fake_server):
    settings.MCPRAG_EMBEDDINGS = "openai"
    settings.MCPRAG_EMBEDDINGS_URL = f"http://127.0.0.1:{fake_server.server_address[1]}/"
    settings.MCPRAG_EMBEDDINGS_MODEL = "fake-embed-1"
    settings.MCPRAG_EMBEDDINGS_API_KEY = "sk-test-key"
    return settings


FILES = {
    "shop/pricing.py": "def compute_shipping_surcharge(order):\n    # ALPHAVEC\n    return order.total * 0.1\n",
    "shop/tally.py": "def tally(values):\n    # BETAVEC\n    return len(values)\n",
}


def test_requests_carry_model_and_input_and_vectors_are_stored(make_tree, fake_server, openai_settings):
    index_repository(make_tree(FILES), "shop")
    posts = [r for r in fake_server.requests if r["path"] == "/v1/embeddings"]
    assert posts and all(r["path"] == "/v1/embeddings" for r in fake_server.requests)
    assert all(r["body"]["model"] == "fake-embed-1" and isinstance(r["body"]["input"], list) for r in posts)
    assert all(r["auth"] == "Bearer sk-test-key" for r in posts)
    sent = [t for r in posts for t in r["body"]["input"]]
    assert any("ALPHAVEC" in t and "shop/pricing.py" in t for t in sent)
    assert any("BETAVEC" in t and "shop/tally.py" in t for t in sent)

    chunks = list(Chunk.objects.filter(repository__name="shop"))
    assert chunks
    vectors = {v.chunk_id: v for v in ChunkVector.objects.filter(model="openai:fake-embed-1")}
    assert set(vectors) == {c.pk for c in chunks}
    for chunk in chunks:
        expected = [1.0, 0, 0, 0] if "ALPHAVEC" in chunk.content else [0, 1.0, 0, 0] if "BETAVEC" in chunk.content else None
        if expected is not None:
            assert from_bytes(vectors[chunk.pk].vector).tolist() == pytest.approx(expected)


def test_the_fake_vectors_rank_when_dense_dominates(make_tree, fake_server, openai_settings):
    index_repository(make_tree(FILES), "shop")
    openai_settings.MCPRAG_FUSION_DENSE_WEIGHT = 1.0
    page = search_page(SearchRequest(QUERY, repository="shop"), access=SYSTEM)
    assert page.signals_used == ["lexical", "dense"], page.dense_note
    assert page.hits[0].path == "shop/tally.py"  # no word in common, but its vector is nearest
    assert page.hits[0].signals["dense"]["rank"] == 1
    assert any(r["body"]["input"] == [QUERY] for r in fake_server.requests)  # the query was embedded by the server

    openai_settings.MCPRAG_EMBEDDINGS = "none"  # control: lexically the pricing file wins
    lexical = search_page(SearchRequest(QUERY, repository="shop"), access=SYSTEM)
    assert lexical.signals_used == ["lexical"]
    assert lexical.hits[0].path == "shop/pricing.py"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_degrades_to_lexical_with_a_clear_message(make_tree, settings):
    settings.MCPRAG_EMBEDDINGS = "openai"
    settings.MCPRAG_EMBEDDINGS_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.MCPRAG_EMBEDDINGS_MODEL = "fake-embed-1"
    settings.MCPRAG_EMBEDDINGS_API_KEY = "sk-secret-never-shown"
    ok, reason = get_provider().available()
    assert not ok and "embedding server did not answer" in reason

    report = index_repository(make_tree(FILES), "shop")  # indexing still works, without vectors
    assert report.chunks_written > 0
    assert not ChunkVector.objects.exists()

    page = search_page(SearchRequest(QUERY, repository="shop"), access=SYSTEM)
    assert page.signals_used == ["lexical"]
    assert "embedding server did not answer" in page.dense_note
    assert page.hits and page.hits[0].path == "shop/pricing.py"

    state = health(access=SYSTEM)
    assert state.status == "degraded" and state.database == "ok" and state.lexical_index == "ok"
    assert state.embedding_provider == "openai"
    assert state.embeddings.startswith("unavailable: ") and "embedding server did not answer" in state.embeddings
    assert "sk-secret" not in state.embeddings and "sk-secret" not in page.dense_note
