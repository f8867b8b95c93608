"""The API in two languages: error messages and names follow Accept-Language, codes never
change, the submitter's language is recorded and shown, canned replies use it."""

from __future__ import annotations

import json

import pytest

from tests.functional.conftest import Api
from tests.functional.staff_helpers import bearer, call, data, make_staff, submit

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def error(response: object) -> dict[str, object]:
    return dict(json.loads(response.body)["error"])  # type: ignore[attr-defined]


def test_validation_errors_in_chinese_keep_their_code_and_fields(api: Api) -> None:
    bad = {"type": "complaint", "category": "nope", "subject": "", "description": "x" * 5001}
    en = api.post("/v1/feedback", bad)
    zh = api.post("/v1/feedback", bad, **ZH)
    assert (en.status_code, zh.status_code) == (400, 400)
    e_en, e_zh = error(en), error(zh)
    assert e_en["code"] == e_zh["code"] == "validation_error"
    assert e_en["message"] == "Some fields are missing or invalid."
    assert e_zh["message"] == "部分内容未填写或填写有误。"
    assert e_en["fields"] == {
        "category": "is not a known category (see GET /v1/categories)",
        "subject": "is required",
        "description": "must be at most 5000 characters (got 5001)",
    }
    assert e_zh["fields"] == {
        "category": "不是有效的类别（见 GET /v1/categories）",
        "subject": "为必填项",
        "description": "最多 5000 个字（当前 5001 个）",
    }
    assert zh.headers["Content-Language"] == "zh-Hans"
    assert en.headers["Content-Language"] == "en"
    assert "Accept-Language" in zh.headers["Vary"]


@pytest.mark.parametrize(
    ("accept", "language"),
    [
        ("zh", "zh"),
        ("zh-Hans", "zh"),
        ("zh-CN", "zh"),
        ("fr, zh;q=0.5, en;q=0.4", "zh"),
        ("en;q=0.9, zh;q=0.8", "en"),
        ("zh;q=0, *", "en"),
        ("de", "en"),
        ("", "en"),
    ],
)
def test_accept_language_is_weighed(api: Api, accept: str, language: str) -> None:
    r = api.get("/v1/tickets/not-a-number", **{"Accept-Language": accept})
    assert r.status_code == 400
    assert error(r)["code"] == "invalid_number"
    expected = {
        "en": "This is not a valid ticket number: check it for typos.",
        "zh": "工单号无效，请检查是否输入有误。",
    }[language]
    assert error(r)["message"] == expected


def test_not_found_and_conflicts_in_chinese(api: Api) -> None:
    t = submit(api)
    from chalicelib.domain import numbers

    other = numbers.format_number(bytes(6), "FB")
    r = api.get(f"/v1/tickets/{other}", **ZH)
    assert (r.status_code, error(r)["code"]) == (404, "not_found")
    assert error(r)["message"] == f"工单 {other} 不存在。"
    r = api.post(
        f"/v1/tickets/{t['number']}/rating", {"score": 4}, **ZH, **{"X-Ticket-Key": t["key"]}
    )
    assert (r.status_code, error(r)["code"]) == (409, "conflict")
    assert error(r)["message"] == "只有已办结的工单才能评价。"
    r = api.post("/v1/feedback", "{not json", **ZH)
    assert error(r)["message"] == "请求内容不是有效的 JSON（第 1 行第 2 列）。"


def test_categories_carry_both_names_and_name_follows_the_language(api: Api) -> None:
    en = json.loads(api.get("/v1/categories").body)["categories"]
    zh = json.loads(api.get("/v1/categories", **ZH).body)["categories"]
    service_en = next(c for c in en if c["code"] == "service")
    service_zh = next(c for c in zh if c["code"] == "service")
    assert (service_en["name"], service_zh["name"]) == ("Service", "服务")
    assert service_en["names"] == service_zh["names"] == {"en": "Service", "zh": "服务"}
    waiting = next(k for k in service_zh["children"] if k["code"] == "service-waiting")
    assert waiting["name"] == "等候时间"
    assert waiting["names"] == {"en": "Waiting times", "zh": "等候时间"}


def test_the_submitters_language_is_recorded_and_shown(api: Api) -> None:
    t = submit(
        api, language="zh", subject="窗口排队两小时，叫号机坏了！", description="没有人通知我们。"
    )
    view = json.loads(api.get(f"/v1/tickets/{t['number']}").body)
    assert view["language"] == "zh"
    assert json.loads(api.get(f"/v1/tickets/{submit(api)['number']}").body)["language"] == "en"


def test_full_width_and_lower_case_ticket_numbers_are_found(api: Api) -> None:
    t = submit(api)
    number = t["number"]
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else "－" for c in number.lower())
    for typed in (number.lower(), full_width, " " + number.replace("-", "　") + " "):
        r = api.get(f"/v1/tickets/{typed}", **{"X-Ticket-Key": t["key"].lower()})
        assert r.status_code == 200, (typed, r.body)
        assert json.loads(r.body)["number"] == number


def test_phone_numbers_typed_with_full_width_forms_are_normalised(api: Api) -> None:
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    t = submit(api, contact={"phone": "（０１０）１２３４－５６７８", "consent_to_contact": True})
    r = call(api, "GET", f"/v1/staff/tickets/{t['number']}/contact", **al)
    assert data(r)["contact"]["phone"] == "01012345678"


def test_canned_responses_are_sent_in_the_tickets_language(api: Api) -> None:
    admin = bearer(make_staff("root", "admin", []))
    al = bearer(make_staff("al", "agent", ["customer-service"]))
    r = call(
        api,
        "POST",
        "/v1/staff/canned",
        {
            "title": "Ack",
            "text": "Ticket {number} is with us ({category}).",
            "translations": {
                "zh": {"title": "受理", "text": "工单 {number} 已受理（{category}）。"}
            },
        },
        **admin,
    )
    assert r.status_code == 201, r.body
    canned = data(r)
    assert canned["translations"] == {
        "zh": {"title": "受理", "text": "工单 {number} 已受理（{category}）。"}
    }
    bad = call(
        api,
        "POST",
        "/v1/staff/canned",
        {"title": "x", "text": "y", "translations": {"fr": {"title": "x", "text": "y"}}},
        **admin,
    )
    assert bad.status_code == 400
    assert "translations.fr" in error(bad)["fields"]  # type: ignore[operator]
    null = call(
        api, "POST", "/v1/staff/canned", {"title": "x", "text": "y", "translations": None}, **admin
    )
    assert null.status_code == 400
    assert "translations" in error(null)["fields"]  # type: ignore[operator]
    for language, expected in (
        ("zh", "工单 {n} 已受理（等候时间）。"),
        ("en", "Ticket {n} is with us (Waiting times)."),
    ):
        t = submit(api, language=language)
        r = call(
            api,
            "POST",
            f"/v1/staff/tickets/{t['number']}/replies",
            {"public": True, "canned_id": canned["id"]},
            **al,
        )
        assert r.status_code == 201, r.body
        assert data(r)["timeline"][-1]["text"] == expected.format(n=t["number"])
    listed = data(call(api, "GET", "/v1/staff/canned", **al))["canned"]
    assert listed[0]["translations"]["zh"]["title"] == "受理"
