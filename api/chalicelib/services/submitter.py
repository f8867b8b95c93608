"""Use cases of the submitter (key required): add information, rate a resolution."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import Timers, restart_resolution, resume
from chalicelib.domain.text import clean_text
from chalicelib.errors import ConflictError, ValidationError
from chalicelib.i18n.events import system_text
from chalicelib.i18n.message import Message
from chalicelib.services.changes import Change
from chalicelib.services.lookup import LookupService
from chalicelib.services.ports import Clock
from chalicelib.services.views import status_view
from chalicelib.store.port import TicketStore

MESSAGE_MAX = 5000
COMMENT_MAX = 1000
DISSATISFIED = 2  # ratings of 1 or 2 reopen the ticket


def _object(body: object, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError(Message("body.not_object"))
    unknown = set(body) - allowed
    if unknown:
        raise ValidationError(
            Message("body.unknown_fields"),
            dict.fromkeys(sorted(unknown), Message("field.unknown")),
        )
    return body


class SubmitterService:
    def __init__(
        self,
        store: TicketStore,
        lookup: LookupService,
        clock: Clock,
        policy: Policy,
        timers: Timers,
    ) -> None:
        self._store = store
        self._lookup = lookup
        self._clock = clock
        self._policy = policy
        self._timers = timers

    def _key_required(self, key: str | None) -> str:
        if key is None:
            raise ValidationError(
                Message("ticket.key_required"),
                {"X-Ticket-Key": Message("field.required")},
            )
        return key

    def add_message(
        self, number_text: str, key: str | None, body: object, language: str = "en"
    ) -> dict[str, Any]:
        """Add information; a ticket awaiting it returns to its previous state, the clock runs."""
        data = _object(body, {"text"})
        view = self._lookup.load(number_text, self._key_required(key))
        text = data.get("text")
        if not isinstance(text, str) or not clean_text(text, multiline=True):
            raise ValidationError(
                Message("ticket.information_required"), {"text": Message("field.required")}
            )
        text = clean_text(text, multiline=True)
        if len(text) > MESSAGE_MAX:
            raise ValidationError(
                Message("ticket.text_too_long", max=MESSAGE_MAX),
                {"text": Message("field.at_most", max=MESSAGE_MAX)},
            )
        t = view.ticket
        if t.status in ("closed", "rejected", "merged"):
            raise ConflictError(Message("ticket.takes_no_information", status=t.status))
        change = Change(t, self._clock.now(), actor="submitter", actor_label="submitter")
        change.event("submitter_message", public=True, text=text)
        if t.status == "awaiting_info":
            back = t.resume_status or "acknowledged"
            change.ticket = resume(t, change.now, self._policy).replace(
                status=back, resume_status=None
            )
            said, saved = system_text(
                "event.information_received", {"from": "awaiting_info", "to": back}
            )
            change.event("status_changed", public=True, text=said, data=saved)
        self._store.save_tickets([change.build(self._policy, self._timers)])
        return self._lookup.status(t.number, key, language)

    def rate(
        self, number_text: str, key: str | None, body: object, language: str = "en"
    ) -> dict[str, Any]:
        """Rate the latest resolution 1-5 (once); 1 or 2 reopens and escalates the ticket."""
        data = _object(body, {"score", "comment"})
        view = self._lookup.load(number_text, self._key_required(key))
        score = data.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValidationError(Message("rating.score"), {"score": Message("field.score")})
        comment = data.get("comment")
        if comment is not None:
            if not isinstance(comment, str):
                raise ValidationError(
                    Message("rating.comment_text"), {"comment": Message("field.text")}
                )
            comment = clean_text(comment, multiline=True) or None
            if comment is not None and len(comment) > COMMENT_MAX:
                raise ValidationError(
                    Message("ticket.text_too_long", max=COMMENT_MAX),
                    {"comment": Message("field.comment_too_long")},
                )
        t = view.ticket
        if t.status != "resolved":
            raise ConflictError(Message("rating.only_resolved"))
        if t.rated_round >= t.resolution_round:
            raise ConflictError(Message("rating.already_rated"))
        now = self._clock.now()
        change = Change(t, now, actor="submitter", actor_label="submitter")
        ratings = [
            *t.attributes.get("ratings", []),
            {"score": score, "at": now.isoformat(), "round": t.resolution_round},
        ]
        new = t.replace(
            rating=score,
            rated_round=t.resolution_round,
            attributes={**t.attributes, "ratings": ratings},
        )
        change.event("rated", public=True, text=comment or "", data={"score": score})
        if score <= DISSATISFIED:
            new = restart_resolution(new, now, self._policy).replace(
                status="reopened", reopen_count=t.reopen_count + 1, escalated=True
            )
            said, saved = system_text(
                "event.reopened_by_rating", {"from": "resolved", "to": "reopened"}
            )
            change.event("status_changed", public=True, text=said, data=saved)
            change.event(
                "escalated",
                public=False,
                text=f"Dissatisfied rating ({score}/5): escalated to the {t.department} "
                "supervisor.",
                data={"reason": "dissatisfied", "score": score},
                actor="system",
                actor_label="system",
            )
        change.ticket = new
        self._store.save_tickets([change.build(self._policy, self._timers)])
        after = self._store.get_ticket(t.number)
        assert after is not None  # noqa: S101 - just saved
        return status_view(after.ticket, after.events, language)
