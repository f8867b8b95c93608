"""The published pages in both languages: twins, the language switcher, Chinese texts and names,
Babel formats, and escaping of everything a person wrote."""

from __future__ import annotations

import posixpath
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from chalicelib.domain.metrics import Ratio, last_days, month_period
from chalicelib.publish.locale import PageLanguage
from chalicelib.publish.render import Names, render
from tests.support.stack import REPO_ROOT
from tests.unit.test_publish_render import NAMES, entries, publish_input

NAMES_ZH = Names(
    categories={"cat-a": "甲类", "cat-b": "乙类", "cat-b-x": "乙类：某项"},
    top_categories=["cat-a", "cat-b"],
    category_parent=NAMES.category_parent,
    channels={"web": "网站", "phone": "电话"},
    departments={"d1": "第一部门", "d2": "第二部门"},
)
ZH = PageLanguage("zh")
EN = PageLanguage("en")


def pages(board_size: int = 3, **changes: object) -> dict[str, str]:
    data = replace(publish_input(entries(board_size)), names_zh=NAMES_ZH, **changes)  # type: ignore[arg-type]
    return {f.key: f.body.decode() for f in render(data) if f.key.endswith(".html")}


def test_every_page_has_a_chinese_twin_and_the_other_way_round() -> None:
    files = pages(25)
    english = {k for k in files if not k.startswith("zh/")}
    chinese = {k.removeprefix("zh/") for k in files if k.startswith("zh/")}
    assert english == chinese
    assert {"board/index.html", "board/page/2/index.html", "transparency/2026-03/index.html"} <= (
        english
    )
    assert all('<html lang="en">' in files[k] for k in english)
    assert all('<html lang="zh">' in files["zh/" + k] for k in chinese)


@pytest.mark.parametrize(
    "key",
    ["transparency/index.html", "board/index.html", "board/items/0000000000000001/index.html"],
)
def test_the_language_switcher_links_each_page_to_its_twin(key: str) -> None:
    files = pages()
    for here in (key, "zh/" + key):
        links = dict(
            re.findall(
                r'<a href="([^"]+)" hreflang="(?:en|zh)" class="md-select__link"[^>]*>([^<]+)<',
                files[here],
            )
        )
        resolved = {
            name: posixpath.normpath(posixpath.join(posixpath.dirname(here), href))
            for href, name in links.items()
        }
        want = {"English": key, "简体中文": "zh/" + key}
        assert resolved == {n: posixpath.dirname(k) for n, k in want.items()}, here
        current = "简体中文" if here.startswith("zh/") else "English"
        assert 'aria-current="true">' + current in files[here]


def test_the_chinese_transparency_page_speaks_chinese_with_babel_formats() -> None:
    page = pages()["zh/transparency/index.html"]
    assert "<title>办理情况公开 - Clearloop 意见反馈</title>" in page
    assert "首次答复按时率" in page
    assert "如何理解这些数据" in page
    assert "On-time" not in page
    assert "Resolved" not in page
    assert "2026年2月19日" in page  # first day of the last 30 days (Babel long date)
    assert "2026年3月（截至目前）" in page
    assert "2026年1月" in page
    assert re.search(r"\d+\.\d%</strong>", page)  # Babel percent: no space before %
    assert "45分钟" in page  # Babel units
    assert "甲类" in page
    assert "第一部门" in page
    assert "网站" in page
    assert "metrics.zh.csv" in page  # the Chinese open-data twins
    assert 'href="../../zh/open-data/"' in page
    assert 'href="../../zh/track/"' in page
    # Shared assets stay at the site's root.
    assert 'href="../../assets/published/publish.css"' in page


def test_the_english_pages_keep_their_forms() -> None:
    page = pages()["transparency/index.html"]
    assert "2026-02-19 to 2026-03-20" in page
    assert "March 2026 (so far)" in page
    assert re.search(r"\d+\.\d %</strong>", page)
    assert "45 min" in page
    assert "甲类" not in page
    assert "Alpha" in page


def test_a_chinese_board_item_keeps_the_text_staff_wrote_and_escapes_it() -> None:
    board = entries(1)
    evil = "<script>alert(1)</script> {{ 7*7 }} & “引号”"
    board[0] = replace(board[0], summary=evil, resolution="Fixed <b>it</b>")
    data = replace(publish_input(board), names_zh=NAMES_ZH)
    files = {f.key: f.body.decode() for f in render(data)}
    item = files[f"zh/board/items/{board[0].board_id}/index.html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} &amp; “引号”" in item
    assert "<script" not in item
    assert "<b>it" not in item
    assert "Fixed &lt;b&gt;it&lt;/b&gt;" in item
    assert "反映的问题" in item
    assert "办理结果" in item
    assert "乙类：某项" in item
    assert "2天" in item
    assert "2026年3月18日" in item
    listing = files["zh/board/index.html"]
    assert "&lt;script&gt;" in listing
    assert "<script" not in listing
    assert "共 1 项" in listing
    assert "2026年3月" in listing


def test_a_category_name_with_markup_is_escaped_in_every_text_slot() -> None:
    names = replace(NAMES_ZH, categories={**NAMES_ZH.categories, "cat-a": "<i>甲</i>"})
    data = replace(publish_input(entries(2)), names_zh=names)
    files = {f.key: f.body.decode() for f in render(data)}
    for key in ("zh/board/index.html", "zh/board/category/cat-a/index.html"):
        assert "<i>" not in files[key], key
        assert "&lt;i&gt;甲&lt;/i&gt;" in files[key], key


def test_no_published_page_in_either_language_has_script_or_inline_style() -> None:
    for key, page in pages(3).items():
        assert "<script" not in page, key
        assert "style=" not in page, key
        assert re.search(r"<[^>]*\son[a-z]+\s*=", page) is None, key


def test_chinese_pages_fall_back_to_english_names_without_translations() -> None:
    data = publish_input(entries(2))
    files = {f.key: f.body.decode() for f in render(data)}
    assert "Alpha" in files["zh/board/index.html"]


def test_babel_formats_of_the_chinese_pages() -> None:
    assert ZH.duration(None) == "—"
    assert ZH.duration(45 * 60) == "45分钟"
    assert ZH.duration(3 * 3600 + 20 * 60) == "3小时20分钟"
    assert ZH.duration(3 * 3600) == "3小时"
    assert ZH.duration(52 * 3600) == "2天4小时"
    assert ZH.number(12345) == "12,345"
    assert ZH.percent(Ratio(7, 8)) == "87.5%"
    assert ZH.percent(Ratio(0, 0)) == "—"
    assert ZH.day("2026-11-25") == "2026年11月25日"
    assert ZH.month("2026-11") == "2026年11月"
    assert ZH.chart_day(date(2026, 11, 5)) == "11月5日"
    assert ZH.generated(datetime(2026, 11, 25, 9, 5, tzinfo=UTC)) == "2026年11月25日 09:05 (UTC)"
    today = date(2026, 11, 25)
    assert ZH.period(last_days(today)) == "最近 30 天"
    assert ZH.period(month_period(2026, 11, today)) == "2026年11月（截至目前）"
    assert ZH.period(month_period(2026, 10, today)) == "2026年10月"
    assert EN.duration(3 * 3600 + 20 * 60) == "3 h 20 min"
    assert EN.percent(Ratio(7, 8)) == "87.5 %"
    assert EN.period(month_period(2026, 11, today)) == "November 2026 (so far)"


def test_texts_escape_their_parameters_but_keep_their_own_markup() -> None:
    out = str(ZH.t("tr.intro", period="<b>x</b>", first="a", last="b"))
    assert "<strong>&lt;b&gt;x&lt;/b&gt;</strong>" in out
    assert '<a href="#how-to-read">' in out


def test_importing_the_renderer_loads_no_babel() -> None:
    code = (
        "import sys; import chalicelib.publish.render, chalicelib.services.publishing; "
        "print('babel' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT / "api",
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
