"""The site in English and Simplified Chinese: submit and track in each language, the language
switcher, and a ticket number typed in full-width characters and lower case."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import KEY, NUMBER, Watch, wait_past_fill_time, wait_until_wired
from tests.support.stack import Stack, http_request

pytestmark = pytest.mark.e2e

TEXTS = {
    "en": {
        "prefix": "",
        "type": "Complaint",
        "category_label": "Category",
        "category": "Waiting times",
        "subject": "Subject",
        "description": "Description",
        "phone": "Phone number",
        "submit": "Send feedback",
        "required": "Enter a subject.",
        "phone_error": "Enter a phone number with 6 to 20 digits.",
        "receipt": "Thank you. Your feedback has been received",
        "warning": "The private key is shown only once",
        "track_link": "Track this ticket",
        "ticket": "Ticket {number}",
        "status": "Received: waiting to be looked at",
        "category_path": "Service: Waiting times",
        "submitted": "Submitted",
        "submitted_text": "Feedback received.",
        "number_label": "Ticket number",
        "look_up": "Look up ticket",
    },
    "zh": {
        "prefix": "/zh",
        "type": "投诉",
        "category_label": "类别",
        "category": "等候时间",
        "subject": "标题",
        "description": "具体内容",
        "phone": "电话号码",
        "submit": "提交反馈",
        "required": "请填写标题。",
        "phone_error": "请输入 6 至 20 位数字的电话号码",
        "receipt": "感谢您的反馈，我们已经收到",
        "warning": "查询密钥只显示这一次",
        "track_link": "查询本工单",
        "ticket": "工单 {number}",
        "status": "已收到：等待受理",
        "category_path": "服务: 等候时间",
        "submitted": "已提交",
        "submitted_text": "已收到您的意见反馈。",
        "number_label": "工单号",
        "look_up": "查询",
    },
}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_submit_and_track_in_each_language(
    page: Page, stack: Stack, watch: Watch, language: str
) -> None:
    t = TEXTS[language]
    site = stack.site_url + t["prefix"]
    page.goto(site + "/give-feedback/")
    assert page.evaluate("document.documentElement.lang") == language
    expect(page.locator("#fb-submit")).to_be_enabled()
    expect(page.get_by_label(t["category_label"])).to_be_enabled()
    ready_at = time.monotonic()

    # Client-side validation speaks the page's language.
    page.get_by_label(t["phone"]).fill("１２")
    page.get_by_role("button", name=t["submit"]).click()
    expect(page.locator("#fb-subject-error")).to_have_text(t["required"])
    expect(page.locator("#fb-phone-error")).to_contain_text(t["phone_error"])

    page.get_by_role("radio", name=t["type"]).check()
    page.get_by_label(t["category_label"]).select_option(label=t["category"])
    subject = "窗口排队两小时，叫号机坏了！" if language == "zh" else "Two hours at counter 3"
    page.get_by_label(t["subject"]).fill(subject)
    page.get_by_label(t["description"]).fill(
        "周一上午只开了一个窗口。" if language == "zh" else "One desk."
    )
    # Full-width digits, brackets and dash: accepted and sent as typed, folded by the server.
    page.get_by_label(t["phone"]).fill("（０１０）１２３４－５６７８")
    wait_past_fill_time(ready_at)
    with page.expect_request(lambda r: r.method == "POST") as sent:
        page.get_by_role("button", name=t["submit"]).click()
    request = sent.value
    assert request.post_data_json["language"] == language
    assert request.post_data_json["subject"] == subject  # Chinese punctuation kept as typed
    assert request.headers["accept-language"].startswith("zh" if language == "zh" else "en")

    expect(page.get_by_role("heading", name=t["receipt"])).to_be_visible()
    expect(page.get_by_text(t["warning"])).to_be_visible()
    number = page.locator("#fb-receipt-number").inner_text()
    key = page.locator("#fb-receipt-key").inner_text()
    assert NUMBER.match(number)
    assert KEY.match(key)

    track = page.get_by_role("link", name=t["track_link"])
    assert track.get_attribute("href") == f"{site}/track/#number={number}&key={key}"
    track.click()
    result = page.locator("#tr-result")
    expect(result.get_by_role("heading", name=t["ticket"].format(number=number))).to_be_visible()
    expect(result).to_contain_text(t["status"])
    expect(result).to_contain_text(t["category_path"])
    expect(result.locator(".cl-timeline li[data-kind=submitted]")).to_contain_text(t["submitted"])
    # The system's own words in the page's language (a message key, rendered by the API).
    expect(result.locator(".cl-timeline li[data-kind=submitted] .cl-timeline-text")).to_have_text(
        t["submitted_text"]
    )

    # The ticket records the language it was written in (notifications use it).
    status = http_request("GET", stack.api_url + f"/v1/tickets/{number}").json()
    assert status["language"] == language


def test_a_full_width_lower_case_number_is_found_on_the_chinese_track_page(
    page: Page, stack: Stack, watch: Watch
) -> None:
    created = http_request(
        "POST",
        stack.api_url + "/v1/feedback",
        body={
            "type": "inquiry",
            "category": "other",
            "subject": "开放时间？",
            "description": "请问周末开门吗？",
            "language": "zh",
        },
    ).json()
    number = created["number"]
    typed = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else "－" for c in number.lower())
    page.goto(stack.site_url + "/zh/track/")
    wait_until_wired(page, "track")
    page.get_by_label("工单号").fill(typed)
    page.get_by_role("button", name="查询").click()
    result = page.locator("#tr-result")
    expect(result.get_by_role("heading", name=f"工单 {number}")).to_be_visible()
    expect(result).to_contain_text("咨询")
    expect(result).to_contain_text("输入回执上的查询密钥")


def test_an_english_ticket_on_the_chinese_page_links_to_its_own_language(
    page: Page, stack: Stack, watch: Watch
) -> None:
    created = http_request(
        "POST",
        stack.api_url + "/v1/feedback",
        body={"type": "praise", "category": "other", "subject": "Thanks", "description": "Kind."},
    ).json()
    page.goto(stack.site_url + f"/zh/track/#number={created['number']}")
    wait_until_wired(page, "track")
    note = page.locator("[data-ticket-language=en]")
    expect(note).to_contain_text("本工单使用英文提交。")
    expect(note.get_by_role("link", name="View in English")).to_have_attribute(
        "href", f"/track/#number={created['number']}"
    )


@pytest.mark.parametrize(
    ("start", "switch_to", "target", "heading"),
    [
        ("/give-feedback/", "简体中文", "/zh/give-feedback/", "意见反馈"),
        ("/zh/track/", "English", "/track/", "Track a ticket"),
        ("/zh/how-it-works/", "English", "/how-it-works/", "How it works"),
        ("/privacy/", "简体中文", "/zh/privacy/", "隐私声明"),
    ],
)
def test_the_language_switcher_keeps_the_current_page(
    page: Page, stack: Stack, watch: Watch, start: str, switch_to: str, target: str, heading: str
) -> None:
    page.goto(stack.site_url + start)
    page.locator(".md-header .md-select").first.hover()
    page.locator(".md-select__link", has_text=switch_to).first.click()
    expect(page).to_have_url(stack.site_url + target)
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()


def test_the_chinese_how_it_works_page_has_the_generated_sla_table(
    page: Page, stack: Stack, watch: Watch
) -> None:
    page.goto(stack.site_url + "/zh/how-it-works/")
    table = page.locator("table").nth(1)
    expect(table).to_contain_text("首次答复时限")
    expect(table).to_contain_text("个工作日")
    expect(page.locator("html")).to_have_attribute("lang", "zh")
