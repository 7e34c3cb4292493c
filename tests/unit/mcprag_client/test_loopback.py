"""The RFC 8252 loopback listener that receives the browser's authorization response."""

from __future__ import annotations

import logging
import threading

import anyio
import httpx2
import pytest

from mcprag_client.errors import LoginFailed
from mcprag_client.loopback import LoopbackCallback


def _browser_arrives(url: str, delay: float = 0.2) -> threading.Thread:
    responses = []

    def go():
        import time

        time.sleep(delay)
        responses.append(httpx2.get(url, timeout=10))

    thread = threading.Thread(target=go)
    thread.responses = responses
    thread.start()
    return thread


def test_listens_on_127_0_0_1_with_a_random_port():
    with LoopbackCallback() as first, LoopbackCallback() as second:
        assert first.redirect_uri.startswith("http://127.0.0.1:") and first.redirect_uri.endswith("/callback")
        assert first.redirect_uri != second.redirect_uri


def test_the_authorization_response_is_handed_over_and_the_person_sees_a_page(caplog):
    caplog.set_level(logging.DEBUG)
    with LoopbackCallback() as callback:
        browser = _browser_arrives(f"{callback.redirect_uri}?code=the-code&state=the-state&iss=https%3A%2F%2Fas.example")
        result = anyio.run(callback.wait, 10)
        browser.join()
    assert (result.code, result.state, result.iss) == ("the-code", "the-state", "https://as.example")
    page = browser.responses[0]
    assert page.status_code == 200 and "Signed in" in page.text and page.headers["cache-control"] == "no-store"
    assert "the-code" not in caplog.text  # the request line carries the code: never logged


def test_a_denied_consent_fails_the_sign_in():
    with LoopbackCallback() as callback:
        browser = _browser_arrives(f"{callback.redirect_uri}?error=access_denied&state=s")
        with pytest.raises(LoginFailed, match="access_denied"):
            anyio.run(callback.wait, 10)
        browser.join()
    assert "did not complete" in browser.responses[0].text


def test_other_paths_are_404_and_do_not_complete_the_sign_in():
    with LoopbackCallback() as callback:
        assert httpx2.get(callback.redirect_uri.replace("/callback", "/favicon.ico"), timeout=10).status_code == 404
        with pytest.raises(LoginFailed, match="within 0.3 seconds"):
            anyio.run(callback.wait, 0.3)


def test_only_the_first_response_counts():
    with LoopbackCallback() as callback:
        first = httpx2.get(f"{callback.redirect_uri}?code=one&state=s", timeout=10)
        second = httpx2.get(f"{callback.redirect_uri}?code=two&state=s", timeout=10)
        result = anyio.run(callback.wait, 5)
    assert result.code == "one" and "Signed in" in first.text and "already been handled" in second.text
