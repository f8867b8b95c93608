"""Timeline texts the system writes follow the reader's language (Accept-Language); what people
wrote stays as written; the stored entry keeps its English text and its message key."""

from __future__ import annotations

from typing import Any

from tests.functional.conftest import Api
from tests.functional.staff_helpers import bearer, call, data, make_staff, submit

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def timeline(api: Api, number: str, key: str, **headers: str) -> list[dict[str, Any]]:
    r = api.get(f"/v1/tickets/{number}", **{"X-Ticket-Key": key, **headers})
    assert r.status_code == 200, r.body
    return list(data(r)["timeline"])


def test_system_texts_follow_the_readers_language(api: Api) -> None:
    created = submit(api, language="en")
    number, key = created["number"], created["key"]
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    move = f"/v1/staff/tickets/{number}/transitions"
    call(api, "POST", move, {"status": "acknowledged"}, **al)
    r = call(api, "POST", move, {"status": "awaiting_info", "text": "Which day was it?"}, **al)
    assert r.status_code == 200, r.body
    added = call(
        api,
        "POST",
        f"/v1/tickets/{number}/messages",
        {"text": "周一上午。"},
        **{"X-Ticket-Key": key, **ZH},
    )
    assert added.status_code == 201, added.body
    # The answer to the submitter's own request is in the language they asked in.
    answered = [e["text"] for e in data(added)["timeline"]]
    assert "已收到补充信息，继续办理。" in answered

    english = [e["text"] for e in timeline(api, number, key)]
    chinese = [e["text"] for e in timeline(api, number, key, **ZH)]
    assert english[0] == "Feedback received."
    assert chinese[0] == "已收到您的意见反馈。"
    assert "Information received; work continues." in english
    assert "已收到补充信息，继续办理。" in chinese
    # What people wrote is never translated.
    assert "Which day was it?" in chinese
    assert "周一上午。" in english
    assert len(english) == len(chinese)


def test_a_dissatisfied_rating_reopens_with_a_chinese_text(api: Api) -> None:
    created = submit(api, language="zh")
    number, key = created["number"], created["key"]
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    move = f"/v1/staff/tickets/{number}/transitions"
    for status in ("acknowledged", "in_progress"):
        call(api, "POST", move, {"status": status}, **al)
    done = call(api, "POST", move, {"status": "resolved", "text": "Fixed."}, **al)
    assert done.status_code == 200, done.body
    rated = call(
        api,
        "POST",
        f"/v1/tickets/{number}/rating",
        {"score": 1},
        **{"X-Ticket-Key": key, **ZH},
    )
    assert rated.status_code == 201, rated.body
    texts = [e["text"] for e in data(rated)["timeline"]]
    assert "根据您的评价重新办理，主管将进行复核。" in texts
    english = [e["text"] for e in timeline(api, number, key)]
    assert "Reopened after your rating; a supervisor will review it." in english


def test_the_stored_entry_keeps_english_text_and_its_key(api: Api) -> None:
    created = submit(api)
    r = call(
        api,
        "GET",
        f"/v1/staff/tickets/{created['number']}",
        **bearer(make_staff("sue", "supervisor", ["customer-service"])),
        **ZH,
    )
    first = data(r)["timeline"][0]
    assert first["text"] == "Feedback received."  # staff read what was stored
    assert first["data"]["message"] == "event.submitted"
