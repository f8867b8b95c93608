"""Use cases of the submitter (key required): add information, rate a resolution."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import Timers, restart_resolution, resume
from chalicelib.domain.text import clean_text
from chalicelib.errors import ConflictError, ValidationError
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
        raise ValidationError("The request body must be a JSON object.")
    unknown = set(body) - allowed
    if unknown:
        raise ValidationError(
            "Some fields are not known.", dict.fromkeys(sorted(unknown), "is not a known field")
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
                "This needs the ticket's private key in the X-Ticket-Key header.",
                {"X-Ticket-Key": "is required"},
            )
        return key

    def add_message(self, number_text: str, key: str | None, body: object) -> dict[str, Any]:
        """Add information; a ticket awaiting it returns to its previous state, the clock runs."""
        data = _object(body, {"text"})
        view = self._lookup.load(number_text, self._key_required(key))
        text = data.get("text")
        if not isinstance(text, str) or not clean_text(text, multiline=True):
            raise ValidationError("Write the information to add.", {"text": "is required"})
        text = clean_text(text, multiline=True)
        if len(text) > MESSAGE_MAX:
            raise ValidationError(
                f"At most {MESSAGE_MAX} characters.", {"text": f"must be at most {MESSAGE_MAX}"}
            )
        t = view.ticket
        if t.status in ("closed", "rejected", "merged"):
            raise ConflictError(f"This ticket is {t.status} and takes no more information.")
        change = Change(t, self._clock.now(), actor="submitter", actor_label="submitter")
        change.event("submitter_message", public=True, text=text)
        if t.status == "awaiting_info":
            back = t.resume_status or "acknowledged"
            change.ticket = resume(t, change.now, self._policy).replace(
                status=back, resume_status=None
            )
            change.event(
                "status_changed",
                public=True,
                text="Information received; work continues.",
                data={"from": "awaiting_info", "to": back},
            )
        self._store.save_tickets([change.build(self._policy, self._timers)])
        return self._lookup.status(t.number, key)

    def rate(self, number_text: str, key: str | None, body: object) -> dict[str, Any]:
        """Rate the latest resolution 1-5 (once); 1 or 2 reopens and escalates the ticket."""
        data = _object(body, {"score", "comment"})
        view = self._lookup.load(number_text, self._key_required(key))
        score = data.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise ValidationError("Rate from 1 to 5.", {"score": "must be a whole number 1-5"})
        comment = data.get("comment")
        if comment is not None:
            if not isinstance(comment, str):
                raise ValidationError("The comment must be text.", {"comment": "must be text"})
            comment = clean_text(comment, multiline=True) or None
            if comment is not None and len(comment) > COMMENT_MAX:
                raise ValidationError(f"At most {COMMENT_MAX} characters.", {"comment": "too long"})
        t = view.ticket
        if t.status != "resolved":
            raise ConflictError("Only a resolved ticket can be rated.")
        if t.rated_round >= t.resolution_round:
            raise ConflictError("This resolution has already been rated.")
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
            change.event(
                "status_changed",
                public=True,
                text="Reopened after your rating; a supervisor will review it.",
                data={"from": "resolved", "to": "reopened"},
            )
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
        return status_view(after.ticket, after.events)
