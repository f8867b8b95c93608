"""SLA state of one ticket: which targets are met, due soon or breached, and what is due next.

The state lives in ``ticket.attributes["sla"]``::

    {"first_response": {"state": "ok" | "due_soon" | "met" | "breached",
                        "warned_at": iso | None, "breached_at": iso | None, "met_at": iso | None},
     "resolution": {..., "started_at": iso (set when a reopening restarts the window)},
     "pauses": [[start iso, end iso], ...]}

A breach is history: once ``breached_at`` is set it is never cleared, and meeting the target
later records ``met_at`` beside it (the state stays ``breached``). Time in ``awaiting_info`` is
added to every deadline not yet met when the clock resumes, measured on the priority's clock.
A reopened ticket's resolution window starts again at the reopening (``started_at``).

"Due soon" fires when the time left before the deadline is at most (1 - fraction) of the
priority's target, i.e. when 80 % of the target's running time is used: paused time and the time
before a reopening do not count, so a paused or reopened ticket is not warned early.

Rule for priority changes (documented in the how-it-works page): deadlines are recomputed from
the submission time (for a reopened ticket's resolution, from the reopening) with the new
priority's targets, then extended by every pause since; targets already met stay met, and
breaches stay recorded.

Example::

    >>> # ticket submitted Monday 09:00, P2: warning at 80 % of 2 business hours
    >>> # evaluate(ticket, now=Monday 10:40, policy) -> due_soon on first_response
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.sla import Policy, Target, add_clock_time, elapsed
from chalicelib.domain.tickets import OPEN_STATUSES, Deadlines, Ticket

KINDS = ("first_response", "resolution")


@dataclass(frozen=True)
class SlaAlert:
    """Something the sweep must announce: a target became due soon or was breached."""

    number: str
    kind: str  # first_response | resolution
    alert: str  # due_soon | breached
    deadline: datetime


def _iso(t: datetime) -> str:
    return t.isoformat()


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def sla_of(ticket: Ticket) -> dict[str, Any]:
    """A fresh copy of the ticket's SLA state, with defaults filled in."""
    raw = ticket.attributes.get("sla") or {}
    state: dict[str, Any] = {"pauses": [list(p) for p in raw.get("pauses", [])]}
    for kind in KINDS:
        entry = dict(raw.get(kind) or {})
        entry.setdefault("state", "ok")
        for key in ("warned_at", "breached_at", "met_at"):
            entry.setdefault(key, None)
        state[kind] = entry
    return state


def with_sla(ticket: Ticket, state: dict[str, Any]) -> Ticket:
    return ticket.replace(attributes={**ticket.attributes, "sla": state})


def deadline_of(ticket: Ticket, kind: str) -> datetime:
    return (
        ticket.deadlines.first_response if kind == "first_response" else ticket.deadlines.resolution
    )


def mark_met(ticket: Ticket, kind: str, at: datetime) -> Ticket:
    """Record that ``kind`` was met at ``at`` (a breach stays recorded beside it)."""
    state = sla_of(ticket)
    entry = state[kind]
    if entry["met_at"] is None:
        entry["met_at"] = _iso(at)
        if entry["state"] != "breached":
            entry["state"] = "met"
    return with_sla(ticket, state)


def restart_resolution(ticket: Ticket, at: datetime, policy: Policy) -> Ticket:
    """A reopened ticket gets a fresh resolution window from ``at``; earlier rounds stay in
    ``attributes["sla_history"]``."""
    target = policy.targets[ticket.priority]
    state = sla_of(ticket)
    history = [*ticket.attributes.get("sla_history", []), {"resolution": state["resolution"]}]
    state["resolution"] = {
        "state": "ok",
        "warned_at": None,
        "breached_at": None,
        "met_at": None,
        "started_at": _iso(at),
    }
    deadline = add_clock_time(at, target.resolution, target.clock, policy.calendar)
    return ticket.replace(
        deadlines=Deadlines(ticket.deadlines.first_response, deadline),
        attributes={**ticket.attributes, "sla": state, "sla_history": history},
    )


def pause(ticket: Ticket, at: datetime) -> Ticket:
    return ticket.replace(paused_at=at)


def resume(ticket: Ticket, at: datetime, policy: Policy) -> Ticket:
    """End a pause: every unmet deadline moves later by the paused time on the ticket's clock."""
    if ticket.paused_at is None:
        return ticket
    target = policy.targets[ticket.priority]
    paused = elapsed(ticket.paused_at, at, target.clock, policy.calendar)
    state = sla_of(ticket)
    state["pauses"].append([_iso(ticket.paused_at), _iso(at)])
    moved = {}
    for kind in KINDS:
        deadline = deadline_of(ticket, kind)
        if state[kind]["met_at"] is None and state[kind]["breached_at"] is None:
            deadline = _extend(deadline, paused, target, policy)
        moved[kind] = deadline
    return ticket.replace(
        paused_at=None,
        deadlines=Deadlines(moved["first_response"], moved["resolution"]),
        attributes={**ticket.attributes, "sla": state},
    )


def recompute_for_priority(ticket: Ticket, priority: str, policy: Policy) -> Ticket:
    """Deadlines for a new priority: from the start of each window (the submission, or the
    reopening for a later resolution round) with its targets, plus every pause since."""
    target = policy.targets[priority]
    state = sla_of(ticket)
    moved = {}
    for kind in KINDS:
        old = deadline_of(ticket, kind)
        if state[kind]["met_at"] is not None or state[kind]["breached_at"] is not None:
            moved[kind] = old  # settled targets keep the deadline they were judged against
            continue
        start = _window_start(ticket, state, kind)
        paused = timedelta(0)
        for pause_start, pause_end in state["pauses"]:
            begin = datetime.fromisoformat(pause_start)
            if begin >= start:
                paused += elapsed(
                    begin, datetime.fromisoformat(pause_end), target.clock, policy.calendar
                )
        base = add_clock_time(start, _window(target, kind), target.clock, policy.calendar)
        moved[kind] = _extend(base, paused, target, policy)
        if state[kind]["state"] == "due_soon":
            state[kind]["state"] = "ok"  # re-judged against the new window
            state[kind]["warned_at"] = None
    return ticket.replace(
        priority=priority,
        deadlines=Deadlines(moved["first_response"], moved["resolution"]),
        attributes={**ticket.attributes, "sla": state},
    )


def _extend(deadline: datetime, paused: timedelta, target: Target, policy: Policy) -> datetime:
    """``deadline`` moved by ``paused`` on the target's clock. No pause, no move: adding zero
    business time would carry a deadline at closing time over to the next opening."""
    if paused <= timedelta(0):
        return deadline
    return add_clock_time(deadline, paused, target.clock, policy.calendar)


def _window(target: Target, kind: str) -> timedelta:
    return target.first_response if kind == "first_response" else target.resolution


def _window_start(ticket: Ticket, state: dict[str, Any], kind: str) -> datetime:
    started = _parse(state[kind].get("started_at"))
    return ticket.submitted_at if started is None else started


def _warning(ticket: Ticket, kind: str, policy: Policy) -> datetime:
    """When at most (1 - fraction) of the target is left before the deadline (see the module
    docstring): for a fresh window this is ``warning_time`` at the policy's fraction."""
    target = policy.targets[ticket.priority]
    window = _window(target, kind)
    start = _window_start(ticket, sla_of(ticket), kind)
    # Pauses and priority changes move the deadline; the warning moves with it.
    extra = elapsed(start, deadline_of(ticket, kind), target.clock, policy.calendar) - window
    lead = max(window * policy.due_soon_fraction + extra, timedelta(0))
    return add_clock_time(start, lead, target.clock, policy.calendar)


def evaluate(ticket: Ticket, now: datetime, policy: Policy) -> tuple[Ticket, list[SlaAlert]]:
    """Advance the SLA state to ``now``; return the new ticket and the alerts to announce.

    Paused or closed tickets are left alone. Idempotent: evaluating again at the same or an
    earlier time returns no alerts.
    """
    if ticket.status not in OPEN_STATUSES or ticket.paused_at is not None:
        return ticket, []
    state = sla_of(ticket)
    alerts = []
    for kind in KINDS:
        entry = state[kind]
        if entry["met_at"] is not None or entry["state"] == "breached":
            continue
        deadline = deadline_of(ticket, kind)
        if now >= deadline:
            entry["state"] = "breached"
            entry["breached_at"] = _iso(deadline)
            alerts.append(SlaAlert(ticket.number, kind, "breached", deadline))
        elif entry["state"] == "ok" and now >= _warning(ticket, kind, policy):
            entry["state"] = "due_soon"
            entry["warned_at"] = _iso(now)
            alerts.append(SlaAlert(ticket.number, kind, "due_soon", deadline))
    return with_sla(ticket, state), alerts


@dataclass(frozen=True)
class Timers:
    """How long a resolved ticket waits for a rating before it closes itself, and how long
    contact details are kept after a ticket is finished."""

    autoclose_after: timedelta
    contact_retention: timedelta
    # Photo attachments are erased this long after a ticket is finished (None: with the contact).
    attachment_retention: timedelta | None = None

    @property
    def attachments_kept(self) -> timedelta:
        if self.attachment_retention is None:
            return self.contact_retention
        return self.attachment_retention


FINISHED = frozenset({"closed", "rejected", "merged"})


def next_due(ticket: Ticket, policy: Policy, timers: Timers) -> datetime | None:
    """When the sweep next needs this ticket: an SLA warning or deadline while open, the
    auto-close time while resolved, the contact (or photo) purge time once finished."""
    if ticket.status == "resolved" and ticket.resolved_at is not None:
        return ticket.resolved_at + timers.autoclose_after
    if ticket.status in FINISHED:
        finished = ticket.closed_at or ticket.updated_at
        purges = []
        if ticket.contact_ciphertext is not None:
            purges.append(finished + timers.contact_retention)
        if ticket.attributes.get("attachments"):
            purges.append(finished + timers.attachments_kept)
        return min(purges) if purges else None
    if ticket.status not in OPEN_STATUSES or ticket.paused_at is not None:
        return None
    state = sla_of(ticket)
    candidates = []
    for kind in KINDS:
        entry = state[kind]
        if entry["met_at"] is not None or entry["state"] == "breached":
            continue
        if entry["state"] == "ok":
            candidates.append(_warning(ticket, kind, policy))
        else:
            candidates.append(deadline_of(ticket, kind))
    return min(candidates) if candidates else None


def public_sla(ticket: Ticket) -> dict[str, Any]:
    """The SLA state as shown in status and staff views."""
    state = sla_of(ticket)
    out = {}
    for kind in KINDS:
        e = state[kind]
        out[kind] = {
            "deadline": deadline_of(ticket, kind),
            "state": e["state"],
            "met_at": _parse(e["met_at"]),
            "breached_at": _parse(e["breached_at"]),
        }
    out_paused = ticket.paused_at is not None
    return {"paused": out_paused, **out}
