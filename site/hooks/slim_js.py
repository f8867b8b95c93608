"""MkDocs hook: the built site's own JavaScript without its comments and indentation.

Staff pages have a budget of 30 kB of our own JS and CSS; the sources keep their comments for
people, the built files drop what a browser does not need. The change is line-based and safe for
the way the project writes JavaScript: a line that is only a comment (``// ...`` or a block
``/* ... */`` that starts its line) is dropped, and every line loses its leading and trailing
blanks. A line with an odd number of backticks (a template literal over several lines), a
backslash at the end (a continued string) or a block comment that starts after code would be
changed by this, so the build fails on such a line instead, naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


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


def slim_tree(folder: Path) -> int:
    """Slim every ``.js`` file under ``folder``; returns the bytes saved."""
    saved = 0
    for path in sorted(folder.rglob("*.js")):
        before = path.read_text("utf-8")
        after = slim(before, str(path))
        saved += len(before.encode()) - len(after.encode())
        path.write_text(after, "utf-8")
    return saved


def on_post_build(config: Any) -> None:
    folder = Path(config["site_dir"]) / "assets" / "js"
    if folder.is_dir():
        slim_tree(folder)
