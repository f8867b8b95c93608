"""Publishing: escaped output, no personal data anywhere, the S3 sink on moto, stale pages removed.

Tickets go through the API on SQLite and DynamoDB (moto); the publisher runs as the hourly job
does (``deps.publish_service()``) into a folder or a moto bucket.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from chalicelib import deps
from chalicelib.publish.sinks import DirectorySink, MemorySink, S3Sink
from chalicelib.services.publishing import PublishService
from tests.functional.conftest import Api
from tests.functional.publication_helpers import approve, publication, resolve, transition
from tests.functional.staff_helpers import MovableClock, bearer, call, make_staff, submit

XSS = '<script>alert("x")</script> <img src=x onerror=alert(1)> javascript:alert(2) {{ 7*7 }}'


@pytest.fixture
def clock(api: Api) -> MovableClock:
    c = MovableClock()
    deps.override(clock=c)
    return c


@pytest.fixture
def sue(api: Api, clock: MovableClock) -> dict[str, str]:
    return bearer(make_staff("sue", "supervisor", ["customer-service"], "Sue Planted-Staffname"))


class _Markup(HTMLParser):
    """Everything in a page that a browser could run or follow into script."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "iframe", "object", "embed", "img"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}>")
            if name in ("href", "src", "action") and value and "javascript:" in value.lower():
                self.problems.append(f"<{tag} {name}={value}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @staticmethod
    def texts_of(html: str, css_class: str) -> list[str]:
        """The text of every <p class=css_class> (the person's words on a board page)."""
        return re.findall(rf'<p class="{css_class}">(.*?)</p>', html, flags=re.DOTALL)


def check_page(html: str) -> str:
    parser = _Markup()
    parser.feed(html)
    assert parser.problems == [], parser.problems
    return "".join(parser.text)


def test_markup_in_every_text_field_is_published_as_text(
    api: Api, sue: dict[str, str], tmp_path: Path
) -> None:
    created = resolve(
        api,
        sue,
        summary=XSS,
        resolution=XSS,
        subject=XSS[:200],
        description=XSS,
        location=XSS,
        contact={"name": '<b onmouseover="alert(3)">Zed</b>', "consent_to_contact": False},
    )
    number = created["number"]
    call(api, "POST", f"/v1/staff/tickets/{number}/replies", {"public": False, "text": XSS}, **sue)
    api.post(
        f"/v1/tickets/{number}/rating",
        {"score": 4, "comment": XSS},
        **{"X-Ticket-Key": created["key"]},
    )
    board_id = approve(api, sue, number)
    site = tmp_path / "site"
    deps.override(site_sink=DirectorySink(site))

    deps.publish_service().run()

    item = (site / "board" / "items" / board_id / "index.html").read_text()
    text = check_page(item)
    assert '<script>alert("x")</script>' in text  # shown literally, as text
    assert "{{ 7*7 }}" in text
    assert "49" not in "".join(_Markup.texts_of(item, "cl-pub-text"))
    assert "&lt;script&gt;" in item
    assert "<script>" not in item
    for page in site.rglob("*.html"):
        check_page(page.read_text())
    feed = (site / "board" / "feed.atom").read_text()
    assert "<script>" not in feed
    assert "&lt;script&gt;" in feed
    board = json.loads((site / "transparency" / "data" / "board.json").read_text())
    assert board["items"][0]["summary"] == XSS  # data files carry the text as data
    csv_text = (site / "transparency" / "data" / "board.csv").read_text()
    assert "'<script>" not in csv_text  # only = + - @ need neutralising in CSV


PII = {
    "contact_name": "Zhou Planted",
    "contact_email": "zhou.planted@example.org",
    "contact_phone": "+86 139 8765 4321",
    "id_number": "11010519491231002X",
    "mobile": "13912345678",
    "email_in_text": "witness.planted@example.net",
    "landline": "010-6552 9988",
    "token_link": "https://city.example/reset?token=SECRETPLANTED123",
}


def test_no_personal_data_reaches_any_published_file(
    api: Api, sue: dict[str, str], tmp_path: Path
) -> None:
    note = "INTERNAL-NOTE-PLANTED about the caller"
    text = (
        f"{PII['contact_name']} here, ID {PII['id_number']}, mobile {PII['mobile']}, "
        f"mail {PII['email_in_text']}, office {PII['landline']}, link {PII['token_link']}"
    )
    contact = {
        "name": PII["contact_name"],
        "email": PII["contact_email"],
        "phone": PII["contact_phone"],
        "consent_to_contact": True,
    }
    numbers, board_ids = [], []
    for i in range(4):
        created = resolve(
            api,
            sue,
            summary=f"Summary {i}: {text}",
            resolution=f"Called back {PII['contact_phone']} and {PII['contact_email']}. {text}",
            description=text,
            location=text[:200],
            contact=contact,
        )
        numbers.append(created["number"])
        call(
            api,
            "POST",
            f"/v1/staff/tickets/{created['number']}/replies",
            {"public": False, "text": note},
            **sue,
        )
        call(
            api,
            "POST",
            f"/v1/staff/tickets/{created['number']}/replies",
            {"public": True, "text": text},
            **sue,
        )
        board_ids.append(approve(api, sue, created["number"]))
    open_one = submit(api, description=text, contact=contact)
    transition(api, sue, open_one["number"], {"status": "acknowledged"})
    site = tmp_path / "site"
    deps.override(site_sink=DirectorySink(site))

    report = deps.publish_service().run()

    assert report.board_items == 4
    published = {p: p.read_bytes().decode("utf-8") for p in site.rglob("*") if p.is_file()}
    assert len(published) > 20
    digits_only = {
        k: re.sub(r"\D", "", v)
        for k, v in PII.items()
        if k in ("mobile", "contact_phone", "id_number")
    }
    for path, content in published.items():
        squashed = re.sub(r"[\s\-]", "", content)
        for name, value in PII.items():
            assert value not in content, f"{name} in {path}"
            assert value.lower() not in content.lower(), f"{name} in {path}"
        for name, value in digits_only.items():
            assert value[-9:] not in squashed, f"{name} digits in {path}"
        assert "SECRETPLANTED" not in content
        for number in numbers:  # a number opens the status view: never published
            assert number not in content, f"ticket number in {path}"
        assert note not in content
        assert "Planted-Staffname" not in content
        assert "sue" not in content.split()
    board = json.loads((site / "transparency" / "data" / "board.json").read_text())
    assert {item["id"] for item in board["items"]} == set(board_ids)


def _publisher(sink: Any) -> PublishService:
    s = deps.settings()
    return PublishService(
        deps.store(),
        deps.clock(),
        deps.policy(),
        deps.taxonomy(),
        deps.directory(),
        sink,
        site_origin="https://feedback.example.org",
        months=s.publish_months,
    )


def test_files_are_written_data_first_and_indexes_last(api: Api, sue: dict[str, str]) -> None:
    board_id = approve(api, sue, resolve(api, sue)["number"])
    sink = MemorySink()
    sink.write(
        "index.html",
        b'<link rel="stylesheet" href="assets/stylesheets/main.abc123.min.css">',
        "text/html",
        "",
    )

    _publisher(sink).run()

    order = [key for op, key in sink.log if op == "write"][1:]
    position = {key: i for i, key in enumerate(order)}
    data_files = [k for k in order if k.startswith("transparency/data/") or k.endswith(".css")]
    assert max(position[k] for k in data_files) < position[f"board/items/{board_id}/index.html"]
    assert position[f"board/items/{board_id}/index.html"] < position["board/index.html"]
    assert order[-4:] == [
        "board/index.html",
        "zh/board/index.html",
        "transparency/index.html",
        "zh/transparency/index.html",
    ]
    page = sink.files["transparency/index.html"][0].decode()
    assert 'href="../assets/stylesheets/main.abc123.min.css"' in page
    assert 'href="../assets/published/publish.css"' in page
    item = sink.files[f"board/items/{board_id}/index.html"][0].decode()
    assert 'href="../../../assets/stylesheets/main.abc123.min.css"' in item
    assert "Generated at" in page
    assert "Generated at" in item


def test_stale_pages_are_deleted_after_the_indexes(api: Api, sue: dict[str, str]) -> None:
    kept_ticket, gone_ticket = resolve(api, sue)["number"], resolve(api, sue)["number"]
    keep, gone = approve(api, sue, kept_ticket), approve(api, sue, gone_ticket)
    sink = MemorySink()
    sink.write("index.html", b"", "text/html", "")
    sink.write("other/kept.html", b"not ours", "text/html", "")
    _publisher(sink).run()
    assert f"board/items/{gone}/index.html" in sink.files

    publication(api, sue, gone_ticket, {"action": "withdraw"})
    sink.log.clear()
    _publisher(sink).run()

    assert f"board/items/{gone}/index.html" not in sink.files
    assert f"board/items/{keep}/index.html" in sink.files
    assert "other/kept.html" in sink.files  # only the publisher's own folders are cleaned
    ops = [op for op, _ in sink.log]
    assert ops.index("delete") > max(i for i, op in enumerate(ops) if op == "write")
    board = sink.files["board/index.html"][0].decode()
    assert gone not in board
    assert keep in board


@pytest.fixture
def bucket(api: Api) -> Any:
    """A moto S3 bucket (in-process), with a client that records the order of calls."""
    from moto import mock_aws

    from tests.support.stores import boto3_session

    with mock_aws():
        client = boto3_session().client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="site-bucket")
        calls: list[tuple[str, str]] = []

        class Recording:
            def __getattr__(self, name: str) -> Any:
                attribute = getattr(client, name)
                if name not in ("put_object", "delete_objects"):
                    return attribute

                def call(**kwargs: Any) -> Any:
                    if name == "put_object":
                        calls.append(("put", kwargs["Key"]))
                    else:
                        calls.extend(("delete", o["Key"]) for o in kwargs["Delete"]["Objects"])
                    return attribute(**kwargs)

                return call

        yield client, Recording(), calls


def test_s3_sink_on_moto(api: Api, sue: dict[str, str], bucket: Any) -> None:
    client, recording, calls = bucket
    client.put_object(
        Bucket="site-bucket",
        Key="www/index.html",
        Body=b'<link rel="stylesheet" href="assets/stylesheets/main.1.min.css">',
    )
    client.put_object(Bucket="site-bucket", Key="www/zh/index.html", Body=b"<html lang=zh>")
    numbers = [resolve(api, sue)["number"] for _ in range(2)]
    ids = [approve(api, sue, n) for n in numbers]
    sink = S3Sink("site-bucket", "www", lambda: recording)

    report = _publisher(sink).run()

    keys = {o["Key"] for o in client.list_objects_v2(Bucket="site-bucket")["Contents"]}
    expected = {
        "www/transparency/index.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "www/transparency/data/metrics.json": ("application/json", "public, max-age=300"),
        "www/transparency/data/metrics.csv": ("text/csv; charset=utf-8", "public, max-age=300"),
        "www/transparency/data/daily.csv": ("text/csv; charset=utf-8", "public, max-age=300"),
        "www/transparency/data/board.json": ("application/json", "public, max-age=300"),
        "www/transparency/schema.json": ("application/json", "public, max-age=300"),
        "www/board/index.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "www/board/feed.atom": ("application/atom+xml", "public, max-age=300"),
        f"www/board/items/{ids[0]}/index.html": (
            "text/html; charset=utf-8",
            "public, max-age=300",
        ),
        "www/assets/published/publish.css": ("text/css; charset=utf-8", "public, max-age=3600"),
    }
    assert set(expected) <= keys
    for key, (content_type, cache) in expected.items():
        head = client.head_object(Bucket="site-bucket", Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache), key
    assert report.files == len([c for c in calls if c[0] == "put"])
    puts = [k for op, k in calls if op == "put"]
    assert puts[-4:] == [
        "www/board/index.html",
        "www/zh/board/index.html",
        "www/transparency/index.html",
        "www/zh/transparency/index.html",
    ]
    assert puts.index(f"www/board/items/{ids[0]}/index.html") > puts.index(
        "www/transparency/data/board.json"
    )
    page = client.get_object(Bucket="site-bucket", Key="www/transparency/index.html")["Body"].read()
    assert b"assets/stylesheets/main.1.min.css" in page

    publication(api, sue, numbers[1], {"action": "withdraw"})
    calls.clear()
    _publisher(sink).run()

    deleted = [k for op, k in calls if op == "delete"]
    assert sorted(deleted) == [
        f"www/board/items/{ids[1]}/index.html",
        f"www/zh/board/items/{ids[1]}/index.html",
    ]
    assert calls[-1][0] == "delete"  # after every write
    keys = {o["Key"] for o in client.list_objects_v2(Bucket="site-bucket")["Contents"]}
    assert f"www/board/items/{ids[1]}/index.html" not in keys
    assert f"www/zh/board/items/{ids[1]}/index.html" not in keys
    assert "www/zh/index.html" in keys  # the site's own Chinese pages are left alone
    assert "www/index.html" in keys


def test_publishing_reads_rollups_and_the_board_not_tickets(api: Api, sue: dict[str, str]) -> None:
    for i in range(12):
        created = resolve(api, sue)
        if i < 2:
            publication(api, sue, created["number"], {"action": "approve"})
    store = deps.store()
    before = store.items_read  # type: ignore[attr-defined]
    sink = MemorySink()

    report = _publisher(sink).run()

    read = store.items_read - before  # type: ignore[attr-defined]
    assert report.board_items == 2
    # The rollups of the one active day (nothing is open, so no totals), the two board tickets.
    assert read == report.items_read
    if api.kind == "sqlite":
        assert read == 1 + 2  # one day document and two board tickets
    else:
        # Four dimension cells of the day and of the totals (zeroed items stay), eight shards.
        assert read <= 2 * 4 * 8 + 2


def test_the_chinese_pages_carry_the_configured_chinese_names(
    api: Api, sue: dict[str, str]
) -> None:
    board_id = approve(api, sue, resolve(api, sue)["number"])
    sink = MemorySink()
    _publisher(sink).run()
    item = sink.files[f"zh/board/items/{board_id}/index.html"][0].decode()
    assert '<html lang="zh">' in item
    assert "<h1>已办结事项：服务：等候时间</h1>" in item  # category names from categories.json
    assert "客户服务部" in item  # the department's Chinese name
    assert "A second counter now opens at busy times." in item  # staff's words as written
    assert 'hreflang="en" class="md-select__link"' in item
    assert f'href="../../../../board/items/{board_id}/"' in item  # its English twin
    board = sink.files["zh/board/index.html"][0].decode()
    assert "服务" in board
    assert "共 1 项" in board
    page = sink.files["zh/transparency/index.html"][0].decode()
    assert "客户服务部" in page  # the department table
    assert "网站" in page  # the channel table
    english = sink.files[f"board/items/{board_id}/index.html"][0].decode()
    assert "Service: Waiting times" in english
    assert "客户服务部" not in english
