"""The site's base template: pages can add to <head> (a stylesheet, a meta tag) through ``{% block head %}``."""

from __future__ import annotations

from django.template import engines
from django.test import RequestFactory


def test_a_page_can_add_to_the_head():
    page = engines["django"].from_string('{% extends "base.html" %}{% block head %}<meta name="x-page" content="1">{% endblock %}')
    html = page.render({}, request=RequestFactory().get("/"))
    head, body = html.split("</head>")
    assert '<meta name="x-page" content="1">' in head and "x-page" not in body


def test_the_head_block_is_empty_by_default():
    html = engines["django"].from_string('{% extends "base.html" %}').render({}, request=RequestFactory().get("/"))
    head = html.split("</head>")[0]
    assert head.rstrip().endswith("</style>")
