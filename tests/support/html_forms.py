"""Read HTML forms the way a browser would submit them (stdlib parser, no scraping shortcuts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str | None
    method: str
    attrs: dict
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def data(self, button: str | None = None, **overrides: str) -> list[tuple[str, str]]:
        """Field values as a browser submits them, with the named submit button (if any) and overrides."""
        values = [(k, v) for k, v in self.fields if k not in overrides]
        values += list(overrides.items())
        if button is not None:
            values += [(k, v) for k, v in self.buttons if k == button]
        return values


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._current = Form(action=a.get("action"), method=a.get("method", "get").lower(), attrs=a)
            self.forms.append(self._current)
        elif self._current is not None and tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind == "submit":
                self._current.buttons.append((a["name"], a.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in a:
                self._current.fields.append((a["name"], a.get("value", "")))
        elif self._current is not None and tag == "button":
            if a.get("type", "submit") == "submit" and a.get("name"):
                self._current.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def find_form(html: str, **attrs: str) -> Form:
    for form in parse_forms(html):
        if all(form.attrs.get(k) == v for k, v in attrs.items()):
            return form
    raise AssertionError(f"no form with {attrs} in page:\n{html[:2000]}")
