"""What notifications say, in English and Simplified Chinese.

Two audiences:

- **departments** (from the SLA sweep): "due soon" goes to the department's address, a breach
  to its supervisor's (``sla_alert_message``);
- **submitters** who gave an e-mail address and agreed to be contacted: each status change, in
  the language they used (``submitter_status_message``; ``notify_submitter`` does the whole job
  in one call from a use case).

Messages are plain text. They carry the ticket number, public texts and dates, never an internal
note, a staff name or the submitter's private key. Every message has a ``dedupe_key`` naming
exactly what it announces, so a retried or concurrent sender can be recognised downstream.

Example::

    note = submitter_status_message(ticket, "ann@example.org", "resolved", "We fixed the lamp.")
    notifier.send(note)          # note.language == ticket.language ("en" or "zh")

    # from the staff transition use case, after the change is saved:
    notify_submitter(notifier, cipher, saved_ticket, public_text=text)
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from chalicelib.crypto.port import ContactCipher
from chalicelib.domain.departments import Department
from chalicelib.domain.sla_state import SlaAlert
from chalicelib.domain.tickets import LANGUAGES, Ticket
from chalicelib.notify.port import Notification, Notifier

log = logging.getLogger("clearloop.notify")

DEFAULT_LANGUAGE = "en"
# Status changes a submitter hears about: every status a ticket can move to ("received" is only
# ever the first one, announced by the receipt itself).
NOTIFIED_STATUSES = frozenset(
    {
        "acknowledged",
        "awaiting_info",
        "in_progress",
        "resolved",
        "closed",
        "reopened",
        "rejected",
        "merged",
    }
)

_TARGETS = {
    "en": {"first_response": "first response", "resolution": "resolution"},
    "zh": {"first_response": "首次答复", "resolution": "办结"},
}
_ALERTS = {
    "en": {"due_soon": "due soon", "breached": "breached"},
    "zh": {"due_soon": "即将到期", "breached": "已超时"},
}
_SLA_SUBJECT = {
    "en": "[Clearloop] {number}: {target} {what} ({priority})",
    "zh": "[Clearloop] {number}：{target}{what}（{priority}）",
}
_SLA_BODY = {
    "en": (
        "Ticket {number} ({priority}, category {category}) in {department}: "
        "the {target} target is {what}.\n"
        "Deadline: {deadline}.\n"
        "{action}\n"
    ),
    "zh": (
        "{department}的工单 {number}（{priority}，类别 {category}）：{target}时限{what}。\n"
        "截止时间：{deadline}。\n"
        "{action}\n"
    ),
}
_SLA_ACTION = {
    "en": {
        "due_soon": "Please answer it before the deadline.",
        "breached": "The breach is recorded on the ticket and escalated to you as supervisor.",
    },
    "zh": {
        "due_soon": "请在截止时间前处理。",
        "breached": "超时已记录在工单上，并已上报给您（主管）。",
    },
}

_STATUS = {
    "en": {
        "acknowledged": "acknowledged: a team is looking at it",
        "awaiting_info": "waiting for more information from you",
        "in_progress": "in progress",
        "resolved": "resolved",
        "closed": "closed",
        "reopened": "reopened",
        "rejected": "not taken forward",
        "merged": "merged with another ticket",
    },
    "zh": {
        "acknowledged": "已受理，相关部门正在处理",
        "awaiting_info": "等待您补充信息",
        "in_progress": "处理中",
        "resolved": "已办结",
        "closed": "已关闭",
        "reopened": "已重新处理",
        "rejected": "不予受理",
        "merged": "已与另一工单合并",
    },
}
_SUBMITTER_SUBJECT = {
    "en": "Your feedback {number}: {status}",
    "zh": "您的反馈 {number}：{status}",
}
_SUBMITTER_INTRO = {
    "en": 'Your feedback {number} ("{subject}") is now {status}.',
    "zh": "您的反馈 {number}（“{subject}”）的状态已更新为：{status}。",
}
_SUBMITTER_TEXT_HEADING = {"en": "Our message:", "zh": "我们的答复："}
_SUBMITTER_NEXT = {
    "en": {
        "awaiting_info": (
            "Please add the information on the tracking page with your ticket number and "
            "private key. Our time limits are paused until you do."
        ),
        "resolved": (
            "You can rate the result on the tracking page. If you are not satisfied, "
            "the ticket is reopened and a supervisor looks at it again."
        ),
        "merged": "It was merged into ticket {merged_into}: follow that ticket from now on.",
    },
    "zh": {
        "awaiting_info": (
            "请在“跟踪工单”页面用工单号和私钥补充信息。在您补充之前，处理时限暂停计算。"
        ),
        "resolved": (
            "您可以在“跟踪工单”页面对处理结果评分。如不满意，工单将重新处理并由主管复核。"
        ),
        "merged": "该工单已并入工单 {merged_into}，请今后跟踪该工单。",
    },
}
_SUBMITTER_TRACK = {
    "en": "Follow it on the portal's tracking page: {track}",
    "zh": "请在反馈平台的跟踪页面查看进展：{track}",
}
_SUBMITTER_TRACK_DEFAULT = {
    "en": "the 'Track a ticket' page, with your ticket number and private key",
    "zh": "“跟踪工单”页面（需要工单号和私钥）",
}
_SUBMITTER_FOOTER = {
    "en": (
        "You receive this message because you gave this e-mail address and agreed to be "
        "contacted about this feedback. It is used for nothing else. Please do not reply to "
        "this message: add information on the tracking page instead."
    ),
    "zh": "您收到此邮件，是因为您提交反馈时留下了此邮箱并同意我们就此反馈与您联系。"
    "该邮箱不会用于其他任何用途。请勿直接回复本邮件，如需补充信息请使用跟踪页面。",
}


def message_language(language: str | None) -> str:
    """The template language for a ticket's language (English when unknown)."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def message_time(t: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """A deadline as people read it in a message: ``2026-11-23 11:00 UTC``; in Chinese, the
    locale's long date and short time by Babel (imported here only): ``2026年11月23日 11:00 (UTC)``.
    """
    t = t.astimezone(UTC)
    if language != "zh":
        return t.strftime("%Y-%m-%d %H:%M UTC")
    from babel.dates import format_date, format_time

    locale = "zh_Hans_CN"
    return f"{format_date(t, 'long', locale=locale)} {format_time(t, 'short', locale=locale)} (UTC)"


def _one_line(text: str) -> str:
    # Subjects are single header lines: no line break may reach the mail system.
    return " ".join(text.split())


def sla_dedupe_key(alert: SlaAlert) -> str:
    """``<number>:<target>:<alert>:<deadline>``: one message per ticket, target and deadline."""
    deadline = alert.deadline.astimezone(UTC).isoformat(timespec="seconds")
    return f"{alert.number}:{alert.kind}:{alert.alert}:{deadline}"


def sla_alert_message(
    ticket: Ticket, alert: SlaAlert, department: Department, language: str = DEFAULT_LANGUAGE
) -> Notification:
    """The department's message for an SLA alert: due soon to the department, a breach to its
    supervisor."""
    lang = message_language(language)
    breached = alert.alert == "breached"
    values = {
        "number": ticket.number,
        "priority": ticket.priority,
        "category": ticket.category,
        "department": department.name(lang),
        "target": _TARGETS[lang][alert.kind],
        "what": _ALERTS[lang][alert.alert],
        "deadline": message_time(alert.deadline, lang),
        "action": _SLA_ACTION[lang][alert.alert],
    }
    return Notification(
        to=department.supervisor_email if breached else department.email,
        subject=_one_line(_SLA_SUBJECT[lang].format(**values)),
        body=_SLA_BODY[lang].format(**values),
        kind=f"sla_{alert.alert}",
        number=ticket.number,
        dedupe_key=sla_dedupe_key(alert),
        language=lang,
        tags={"target": alert.kind, "department": department.id},
    )


def submitter_status_message(
    ticket: Ticket,
    contact_email: str,
    new_status: str,
    public_text: str | None,
    *,
    track_url: str | None = None,
) -> Notification:
    """The submitter's message about a status change, in the ticket's language.

    ``public_text`` is what the submitter may read anyway (a reply, the resolution, the reason
    for a rejection, the question asked); ``track_url`` links the tracking page (without the
    private key, which the portal never stores).
    """
    if new_status not in NOTIFIED_STATUSES:
        raise ValueError(f"no submitter message for status {new_status!r}")
    lang = message_language(ticket.language)
    status = _STATUS[lang][new_status]
    parts = [
        _SUBMITTER_INTRO[lang].format(
            number=ticket.number, subject=_one_line(ticket.subject), status=status
        )
    ]
    text = (public_text or "").strip()
    if text:
        parts.append(f"{_SUBMITTER_TEXT_HEADING[lang]}\n{text}")
    follow_up = _SUBMITTER_NEXT[lang].get(new_status)
    if follow_up is not None:
        parts.append(follow_up.format(merged_into=ticket.merged_into or ""))
    parts.append(_SUBMITTER_TRACK[lang].format(track=track_url or _SUBMITTER_TRACK_DEFAULT[lang]))
    parts.append(_SUBMITTER_FOOTER[lang])
    return Notification(
        to=contact_email,
        subject=_one_line(_SUBMITTER_SUBJECT[lang].format(number=ticket.number, status=status)),
        body="\n\n".join(parts) + "\n",
        kind="submitter_status",
        number=ticket.number,
        # The version is new with every stored change, so each change is announced once.
        dedupe_key=f"{ticket.number}:status:{new_status}:v{ticket.version}",
        language=lang,
        tags={"status": new_status},
    )


def contact_email(ticket: Ticket, cipher: ContactCipher) -> str | None:
    """The submitter's e-mail address if they gave one and agreed to be contacted."""
    if not ticket.consent_to_contact or ticket.contact_ciphertext is None:
        return None
    contact = json.loads(cipher.decrypt(ticket.contact_ciphertext, ticket.number))
    email = contact.get("email") if isinstance(contact, dict) else None
    return email if isinstance(email, str) and "@" in email else None


def notify_submitter(
    notifier: Notifier,
    cipher: ContactCipher,
    ticket: Ticket,
    public_text: str | None = None,
    *,
    track_url: str | None = None,
) -> Notification | None:
    """Tell the submitter about ``ticket``'s (new) status, if they asked to be contacted.

    Call it after the change is saved, with the saved ticket. Returns the message sent, or None
    when there is nobody to tell (no e-mail, no consent, a status not announced). Never raises:
    the change is already stored, so a failure to decrypt or send is logged, not passed on.
    """
    if ticket.status not in NOTIFIED_STATUSES:
        return None
    try:
        email = contact_email(ticket, cipher)
        if email is None:
            return None
        message = submitter_status_message(
            ticket, email, ticket.status, public_text, track_url=track_url
        )
        notifier.send(message)
    except Exception:
        # The log names the ticket and status only, never the address or the text.
        log.exception("submitter notification failed for %s (%s)", ticket.number, ticket.status)
        return None
    return message
