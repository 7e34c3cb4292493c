"""A headless "person" that signs in and approves consent through mcprag's real HTML forms.

Used as the SDK ``OAuthClientProvider``'s redirect handler: it follows the authorize URL like a
browser (login page, consent page), submits the forms, and captures the final redirect to the
client's redirect URI (``code``, ``state``, ``iss``) without ever touching the token.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2
from mcp.shared.auth import AuthorizationCodeResult

from .html_forms import find_form


class HeadlessPerson:
    def __init__(self, base_url: str, username: str, password: str, *, approve: bool = True):
        self.base_url = base_url
        self.username = username
        self.password = password
        self.approve = approve
        self.result: AuthorizationCodeResult | None = None
        self.final_location: str | None = None
        self.pages: list[str] = []  # the URLs of pages shown, for assertions
        self.consent_html: str | None = None

    def _same_origin(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.base_url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    async def redirect_handler(self, authorize_url: str) -> None:
        async with httpx2.AsyncClient(follow_redirects=False, timeout=30) as browser:
            response = await browser.get(authorize_url)
            for _ in range(10):
                if response.status_code in (301, 302, 303, 307):
                    location = urljoin(str(response.url), response.headers["location"])
                    if not self._same_origin(location):
                        self.final_location = location
                        break
                    response = await browser.get(location)
                    continue
                assert response.status_code == 200, f"{response.status_code} at {response.url}: {response.text[:500]}"
                self.pages.append(str(response.url))
                html = response.text
                if 'id="login-form"' in html:
                    form = find_form(html, id="login-form")
                    response = await self._submit(browser, response, form.action, form.data(username=self.username, password=self.password))
                elif 'id="authorizationForm"' in html:
                    self.consent_html = html
                    form = find_form(html, id="authorizationForm")
                    button = "allow" if self.approve else "deny"
                    response = await self._submit(browser, response, form.action, form.data(button=button))
                else:
                    raise AssertionError(f"unexpected page at {response.url}: {html[:1000]}")
            else:
                raise AssertionError("too many steps in the authorization flow")
        query = parse_qs(urlsplit(self.final_location).query)
        if "code" in query:
            self.result = AuthorizationCodeResult(
                code=query["code"][0], state=query.get("state", [None])[0], iss=query.get("iss", [None])[0]
            )
        else:
            self.result = None
            self.error = query.get("error", [None])[0]

    async def _submit(self, browser, response, action, data):
        target = urljoin(str(response.url), action or str(response.url))
        return await browser.post(
            target,
            content=urlencode(data),
            headers={"Referer": str(response.url), "Content-Type": "application/x-www-form-urlencoded"},
        )

    async def callback_handler(self) -> AuthorizationCodeResult:
        if self.result is None:
            raise RuntimeError(f"authorization did not return a code (final redirect: {self.final_location})")
        return self.result
