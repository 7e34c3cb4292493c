"""The console's re-index in the embedded default (SQLite, no Redis, no Celery worker), in a real
browser (headless Chromium via Playwright) against the real server.

The server runs index jobs in a thread of its own (``codeindex.worker``), so the Re-index button
redirects at once to a job that is still going, and the page shows it move through its labelled
phases (reading files, then chunking and lexical indexing) with a bar that only moves forward;
the "Re-index again" button stays hidden until the job has ended.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import django
import pytest

from tests.support.browser import browser_page, screenshot
from tests.support.live_server import make_live_server
from tests.support.people import create_person, sign_in

pytestmark = pytest.mark.e2e
VIEWPORT = {"width": 1280, "height": 900}
#: Samples the job page every 50 ms: the bar's value, the phase label, whether the Re-index
#: button can be seen, and whether the page says the job has finished.
_SAMPLER = """
window.__samples = [];
window.setInterval(function () {
  var bar = document.querySelector("#job-progress"), job = document.querySelector("#job");
  if (!bar || !job) return;
  var button = document.querySelector("#job-actions button");
  window.__samples.push({value: bar.value, phase: (document.querySelector("#job-phase") || {}).textContent,
                         button: !!button && button.checkVisibility(), finished: job.dataset.finished});
}, 50);
"""


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    """A real server as ./demo.sh runs it: SQLite, no REDIS_URL, lexical only (to index quickly);
    a copy of django/db (~120 files) indexed once by the command."""
    workdir = tmp_path_factory.mktemp("e2e-embedded-server")
    source = workdir / "src" / "djdb"
    shutil.copytree(Path(django.__file__).parent / "db", source)
    server = make_live_server(workdir)
    server.env.pop("REDIS_URL", None)
    server.env.update(DATABASE_URL=f"sqlite:///{workdir / 'embedded.sqlite3'}", MCPRAG_EMBEDDINGS="none")
    server.manage("migrate", "--noinput")
    server.manage("index_repo", str(source), "--name", "djdb")
    server.start()
    try:
        yield server, source
    finally:
        server.stop()


def test_reindex_redirects_at_once_and_the_bar_only_moves_forward(embedded_server):
    server, source = embedded_server
    for file in source.rglob("*.py"):  # every file changed: the re-index chunks them all again
        file.write_text(file.read_text() + "\n# changed for the re-index\n")
    password = create_person(server, "ines", "public", operator=True)
    percents = []
    with browser_page() as page:
        page.set_viewport_size(VIEWPORT)
        sign_in(page, server, "ines", password, "/console/repositories/")
        page.add_init_script(_SAMPLER)
        page.on("response", lambda r: percents.append(r.json()["percent"]) if r.url.endswith("/progress.json") and r.ok else None)

        page.locator("#repositories tr[data-repository='djdb'] .reindex-form button").click()
        page.wait_for_url(f"{server.base_url}/console/jobs/*/")
        # the request returned before the job ended: the server's worker thread runs it
        assert page.locator("#job").get_attribute("data-finished") == "false"
        assert page.inner_text("#job-status") in ("Queued", "Running")
        assert not page.locator("#job-actions button").is_visible()

        page.wait_for_selector("#job[data-finished='true']", timeout=180_000)
        assert page.inner_text("#job-status") == "Complete"
        assert page.locator("#job-actions button").is_visible()
        screenshot(page, "console-job-phases-complete")
        samples = page.evaluate("window.__samples")

    values = [s["value"] for s in samples]
    assert values == sorted(values), values  # never backwards
    assert values[-1] == 100 and len(set(values)) >= 3  # seen part-way, not only 0 then 100
    assert percents == sorted(percents) and percents[-1] == 100
    assert not any(s["button"] for s in samples if s["finished"] == "false")  # hidden while running
    labels = {s["phase"] for s in samples}
    assert any(label and label.startswith("Chunking and lexical indexing") for label in labels), labels
