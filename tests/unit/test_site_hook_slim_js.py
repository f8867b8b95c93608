"""The built site's JavaScript loses comments and indentation, and nothing else
(site/hooks/slim_js.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("slim_js", ROOT / "site/hooks/slim_js.py")
assert spec is not None
assert spec.loader is not None
hook: Any = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hook)

SOURCE = """// A module.
/**
 * A block comment
 * over lines.
 */
export const a = "// not a comment";  // kept: code before it
  /* one line */
function b(x) {
    return `t ${x}`;
}
"""


def test_comment_lines_and_indentation_go_code_stays() -> None:
    assert hook.slim(SOURCE) == (
        'export const a = "// not a comment";  // kept: code before it\n'
        "function b(x) {\nreturn `t ${x}`;\n}\n"
    )


@pytest.mark.parametrize(
    "line",
    ["const t = `two", 'const s = "a\\', "f(); /* a comment after code"],
)
def test_a_line_it_cannot_handle_fails_the_build(line: str) -> None:
    with pytest.raises(hook.UnsafeToSlim, match=r"x\.js:2"):
        hook.slim(f"ok();\n{line}\nmore();\n", "x.js")


def test_every_site_module_can_be_slimmed_and_shrinks() -> None:
    for path in sorted((ROOT / "site/docs/assets/js").rglob("*.js")):
        source = path.read_text("utf-8")
        slimmed = hook.slim(source, str(path))
        assert len(slimmed) < len(source), path
        assert hook.slim(slimmed) == slimmed  # a second build changes nothing


def test_slim_tree_rewrites_the_files(tmp_path: Path) -> None:
    (tmp_path / "messages").mkdir()
    (tmp_path / "messages" / "m.js").write_text("// c\n  export default {};\n", "utf-8")
    assert hook.slim_tree(tmp_path) > 0
    assert (tmp_path / "messages" / "m.js").read_text("utf-8") == "export default {};\n"


def test_css_loses_comments_and_blanks_but_keeps_strings_and_combinators() -> None:
    source = (
        '/* a "quoted" comment */\n'
        ".a  >  .b , .c :is(d, e) {\n  color : red ;\n  margin: 0 1em;\n}\n"
        '.f::after { content: " ( x , y ) "  attr(href) ")"; }\n'
        "@media screen and (min-width: 60em) {\n  .g { display: none !important; }\n}\n"
    )
    assert hook.slim_css(source) == (
        ".a>.b,.c :is(d,e){color :red;margin:0 1em}"
        '.f::after{content:" ( x , y ) " attr(href) ")"}'
        "@media screen and (min-width:60em){.g{display:none !important}}\n"
    )


@pytest.mark.parametrize(
    "css", ['.a { background: url("x.png"); }', ".a::after { content: '\\2014'; }"]
)
def test_css_it_cannot_slim_safely_is_refused(css: str) -> None:
    with pytest.raises(hook.UnsafeToSlim):
        hook.slim_css(css, "x.css")


def test_the_project_stylesheets_slim_and_shrink() -> None:
    for path in sorted((ROOT / "site/docs/assets/css").glob("*.css")):
        source = path.read_text("utf-8")
        slimmed = hook.slim_css(source, str(path))
        assert len(slimmed) < len(source), path.name
        assert slimmed.count("{") == source.count("{"), path.name  # no rule lost
