"""The Chinese navigation links the Chinese published pages (site/hooks/published_links.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

HOOK = Path(__file__).resolve().parents[2] / "site" / "hooks" / "published_links.py"
spec = importlib.util.spec_from_file_location("published_links", HOOK)
assert spec is not None
assert spec.loader is not None
hook: Any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hook)


@pytest.mark.parametrize(
    ("url", "language", "expected"),
    [
        ("/transparency/", "zh", "/zh/transparency/"),
        ("/board/", "zh", "/zh/board/"),
        ("/transparency/", "en", "/transparency/"),
        ("/reference/api/", "zh", "/reference/api/"),
        ("https://example.org/board/", "zh", "https://example.org/board/"),
    ],
)
def test_published_page_links_move_under_the_language(url: str, language: str, expected: str):
    assert hook.localised(url, language) == expected


def test_on_nav_rewrites_links_in_sections_and_leaves_pages_alone() -> None:
    link = SimpleNamespace(is_link=True, url="/board/")
    page = SimpleNamespace(is_link=False, url="track/")
    section = SimpleNamespace(
        is_link=False, children=[SimpleNamespace(is_link=True, url="/transparency/")]
    )
    nav = SimpleNamespace(items=[link, page, section])
    hook.on_nav(nav, SimpleNamespace(theme={"language": "zh"}), None)
    assert link.url == "/zh/board/"
    assert page.url == "track/"
    assert section.children[0].url == "/zh/transparency/"
    hook.on_nav(nav, SimpleNamespace(theme={"language": "en"}), None)
    assert link.url == "/zh/board/"  # an English build changes nothing
