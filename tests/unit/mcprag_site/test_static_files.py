"""The Django admin is styled in the documented setups: its static files answer 200 with their
content type, without `collectstatic` (embedded default) and from STATIC_ROOT after it."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/static/admin/css/base.css", "/static/admin/js/core.js"])
def test_admin_static_files_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in {"text/css", "text/javascript", "application/javascript"}
    assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_unknown_static_file_is_404(client):
    assert client.get("/static/admin/css/no-such-file.css").status_code == 404
