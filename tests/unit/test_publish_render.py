"""Rendering and sinks without a store: pagination, filters, headers, safe keys."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.domain import rollups
from chalicelib.domain.metrics import RollupView, recent_months, rows_of
from chalicelib.domain.publication import BoardEntry
from chalicelib.publish.render import (
    OWNED_PREFIXES,
    PAGE_SIZE,
    Names,
    PublishInput,
    duration_text,
    render,
)
from chalicelib.publish.sinks import DirectorySink, MemorySink
from chalicelib.services.publishing import site_stylesheets
from tests.unit.test_metrics_golden import TODAY, ZONE, golden_tickets

NAMES = Names(
    categories={"cat-a": "Alpha", "cat-b": "Beta", "cat-b-x": "Beta: X"},
    top_categories=["cat-a", "cat-b"],
    category_parent=lambda code: "cat-b" if code.startswith("cat-b") else code,
    channels={"web": "Website", "phone": "Phone"},
    departments={"d1": "Department one", "d2": "Department two"},
)


def entries(n: int) -> list[BoardEntry]:
    out = []
    for i in range(n):
        resolved = datetime(2026, 3, 18, tzinfo=UTC) - timedelta(days=i)
        out.append(
            BoardEntry(
                board_id=f"{i:016d}",
                category="cat-a" if i % 2 else "cat-b-x",
                department="d1",
                month=resolved.strftime("%Y-%m"),
                submitted_on=(resolved - timedelta(days=2)).date().isoformat(),
                resolved_on=resolved.date().isoformat(),
                resolved_at=resolved,
                seconds_to_resolve=2 * 86400,
                summary=f"Summary {i}",
                resolution=f"Done {i}",
                rating=None if i % 3 else 5,
            )
        )
    return out


def publish_input(board: list[BoardEntry]) -> PublishInput:
    rows = rows_of(rollups.rebuild(golden_tickets(), ZONE))
    view = RollupView(rows, rows, TODAY)
    return PublishInput(
        generated_at=datetime(2026, 3, 20, 12, tzinfo=UTC),
        zone=ZONE,
        today=TODAY,
        view=view,
        months=recent_months(TODAY, 3),
        board=board,
        names=NAMES,
        site_origin="https://feedback.example.org",
        stylesheets=["assets/stylesheets/main.x.min.css"],
    )


def test_board_pages_filters_and_pagination() -> None:
    files = {f.key: f for f in render(publish_input(entries(PAGE_SIZE + 5)))}
    assert "board/index.html" in files
    assert "board/page/2/index.html" in files
    assert "board/page/3/index.html" not in files
    first = files["board/index.html"].body.decode()
    assert 'href="../board/page/2/"' in first
    assert "page 1 of 2" in first
    second = files["board/page/2/index.html"].body.decode()
    assert 'href="../../../board/"' in second  # "Previous" and page 1
    for key in (
        "board/category/cat-a/index.html",
        "board/category/cat-b/index.html",
        "board/month/2026-03/index.html",
        "board/month/2026-02/index.html",
        "board/month/2026-03/category/cat-b/index.html",
    ):
        assert key in files, key
    assert len([k for k in files if k.startswith("board/items/")]) == PAGE_SIZE + 5
    assert all(f.key.startswith(OWNED_PREFIXES) for f in files.values())
    month_pages = [k for k in files if k.startswith("transparency/20")]
    assert month_pages == [
        "transparency/2026-03/index.html",
        "transparency/2026-02/index.html",
        "transparency/2026-01/index.html",
    ]


def test_an_empty_board_still_publishes_every_index() -> None:
    files = {f.key: f for f in render(publish_input([]))}
    assert "Nothing has been published here yet." in files["board/index.html"].body.decode()
    assert files["board/feed.atom"].content_type == "application/atom+xml"
    assert b"<entry>" not in files["board/feed.atom"].body
    page = files["transparency/index.html"].body.decode()
    for label in ("On-time first response", "Resolution rate", "By department, ranked"):
        assert label in page
    assert "still waiting past the deadline" in page


def test_stages_put_indexes_last() -> None:
    files = render(publish_input(entries(3)))
    assert [f.key for f in files][-4:] == [
        "board/index.html",
        "zh/board/index.html",
        "transparency/index.html",
        "zh/transparency/index.html",
    ]
    assert [f.stage for f in files] == sorted(f.stage for f in files)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (59, "1 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (2 * 86400, "2 d"),
        (2 * 86400 + 3 * 3600, "2 d 3 h"),
    ],
)
def test_durations(seconds: float | None, text: str) -> None:
    assert duration_text(seconds) == text


def test_directory_sink(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path)
    sink.write("board/items/A/index.html", b"one", "text/html", "")
    sink.write("board/items/A/index.html", b"two", "text/html", "")
    sink.write("board/items/B/index.html", b"b", "text/html", "")
    assert sink.read("board/items/A/index.html") == b"two"
    assert sink.list("board/") == ["board/items/A/index.html", "board/items/B/index.html"]
    assert not list(tmp_path.rglob(".publish-*"))
    sink.delete(["board/items/A/index.html", "board/items/missing.html"])
    assert not (tmp_path / "board" / "items" / "A").exists()  # emptied folders go too
    assert (tmp_path / "board" / "items" / "B").is_dir()
    assert sink.read("nothing/here") is None
    for bad in ("../x", "/abs", "a//b", "a/./b"):
        with pytest.raises(ValueError, match="unsafe"):
            sink.write(bad, b"", "text/plain", "")


def test_stylesheets_are_taken_from_the_site_only_when_safe() -> None:
    sink = MemorySink()
    assert site_stylesheets(sink) == ["assets/css/clearloop.css"]
    sink.write(
        "index.html",
        b'<link rel="stylesheet" href="assets/stylesheets/main.1.min.css">'
        b'<link rel="stylesheet" href="https://evil.example/x.css">'
        b'<link rel="stylesheet" href="assets/../../x.css">'
        b'<link rel="stylesheet" href="./assets/css/clearloop.css">',
        "text/html",
        "",
    )
    assert site_stylesheets(sink) == [
        "assets/stylesheets/main.1.min.css",
        "assets/css/clearloop.css",
    ]


def test_golden_figures_reach_the_page() -> None:
    files = {f.key: f for f in render(publish_input([]))}
    page = files["transparency/2026-02/index.html"].body.decode()
    assert "33.3 %" in page  # on-time first response in February: 1 of 3
    assert "2 resolved of 3" in page  # resolution rate: received 4 minus 1 spam
    assert date(2026, 2, 1).isoformat() in page
