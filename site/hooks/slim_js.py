"""MkDocs hook: the built site's own JavaScript and CSS without comments and needless blanks.

Staff pages have a budget of 30 kB of our own JS and CSS; the sources keep their comments for
people, the built files drop what a browser does not need. The change is line-based and safe for
the way the project writes JavaScript: a line that is only a comment (``// ...`` or a block
``/* ... */`` that starts its line) is dropped, and every line loses its leading and trailing
blanks. A line with an odd number of backticks (a template literal over several lines), a
backslash at the end (a continued string) or a block comment that starts after code would be
changed by this, so the build fails on such a line instead, naming the file and the line.

CSS is simpler: outside its strings (kept as written), comments go, runs of blanks become one,
and the blanks around ``{ } ; , >`` and after ``:`` go (a blank before ``:`` is a descendant
combinator and stays). A stylesheet with ``url(`` or a backslash is refused, naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_CSS_TOKENS = re.compile(r"""(/\*.*?\*/|"[^"\n]*"|'[^'\n]*')""", re.S)
_CSS_AROUND = re.compile(r"\s*([{};,>])\s*")
_CSS_AFTER_COLON = re.compile(r":\s+")


class UnsafeToSlim(ValueError):
    """A line this line-based tool cannot handle safely."""


def slim(source: str, where: str = "<js>") -> str:
    """``source`` without comment-only lines and leading/trailing blanks on each line."""
    out: list[str] = []
    in_block = False
    for number, line in enumerate(source.split("\n"), 1):
        text = line.strip()
        if in_block:
            in_block = not text.endswith("*/")
            continue
        if text.startswith("/*"):
            in_block = not text.endswith("*/")
            continue
        if not text or text.startswith("//"):
            continue
        if text.count("`") % 2 or text.endswith("\\") or "/*" in text:
            raise UnsafeToSlim(f"{where}:{number}: cannot slim this line safely: {text[:60]!r}")
        out.append(text)
    return "\n".join(out) + "\n"


def slim_css(source: str, where: str = "<css>") -> str:
    """``source`` without comments and the blanks a browser does not need."""
    if "url(" in source or "\\" in source:
        raise UnsafeToSlim(f"{where}: has url() or escapes: not slimmed safely")
    out: list[str] = []
    for i, part in enumerate(_CSS_TOKENS.split(source)):
        if i % 2:  # a comment (dropped) or a string (kept)
            out.append("" if part.startswith("/*") else part)
            continue
        # One blank stays where blanks were at either end: it may separate two values.
        lead = " " if part[:1].isspace() else ""
        trail = " " if part[-1:].isspace() and part.strip() else ""
        text = lead + " ".join(part.split()) + trail if part.strip() else lead
        text = _CSS_AROUND.sub(r"\1", text)
        out.append(_CSS_AFTER_COLON.sub(":", text))
    return "".join(out).replace(";}", "}").strip() + "\n"


def slim_tree(folder: Path, pattern: str = "*.js") -> int:
    """Slim every file matching ``pattern`` (``*.js`` or ``*.css``) under ``folder``; returns
    the bytes saved."""
    saved = 0
    for path in sorted(folder.rglob(pattern)):
        before = path.read_text("utf-8")
        after = slim_css(before, str(path)) if pattern == "*.css" else slim(before, str(path))
        saved += len(before.encode()) - len(after.encode())
        path.write_text(after, "utf-8")
    return saved


def on_post_build(config: Any) -> None:
    assets = Path(config["site_dir"]) / "assets"
    if (assets / "js").is_dir():
        slim_tree(assets / "js")
    if (assets / "css").is_dir():
        slim_tree(assets / "css", "*.css")
