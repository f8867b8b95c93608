"""MkDocs hook: in the Chinese build, the navigation's links to the published pages point at
their Chinese twins.

The transparency page and the resolved-issue board are not MkDocs pages: ``clearloop publish``
writes them hourly into the built site, in English under ``/transparency/`` and ``/board/`` and
in Simplified Chinese under ``/zh/transparency/`` and ``/zh/board/``. ``mkdocs.yml`` lists the
English addresses; the i18n plugin translates the titles only, so this hook moves the links of
the Chinese build (``theme.language`` is ``zh`` there) to ``/zh/...``.
"""

from __future__ import annotations

from typing import Any

PUBLISHED = ("/transparency/", "/board/")


def localised(url: str, language: str) -> str:
    """``/transparency/`` in Chinese is ``/zh/transparency/``; other links are left alone."""
    if language == "en" or not url.startswith(PUBLISHED):
        return url
    return f"/{language}{url}"


def _walk(items: list[Any], language: str) -> None:
    for item in items:
        if getattr(item, "is_link", False):
            item.url = localised(item.url, language)
        children = getattr(item, "children", None)
        if children:
            _walk(children, language)


def on_nav(nav: Any, config: Any, files: Any) -> Any:
    _walk(nav.items, str(config.theme.get("language") or "en"))
    return nav
