"""Demo data: a few months of realistic feedback, loaded through the same use cases the API calls.

``DemoLoader.run()`` moves a clock from ``days`` ago to now and, in time order, submits tickets
(web, Open311 and staff intake from phone, e-mail, letter, suggestion box and counter), lets
department staff triage, reply, ask for information, resolve, reject spam and out-of-scope
feedback and merge duplicates, lets submitters add information and rate (ratings of 1 or 2
reopen the ticket), runs the SLA sweep every simulated hour (breaches, escalations, auto-close),
and has supervisors approve some consented, resolved tickets for the public board (their texts
go through the same redaction preview). Staff are sometimes late and some tickets are still open
at the end, so the published figures have something honest to show.

Every choice comes from ``random.Random(seed)``; times are relative to ``now``, so the same seed
and the same ``now`` on an empty store give the same data set. Only for the local stage (the CLI
refuses otherwise).

Example::

    DemoLoader(tickets=300, days=90, seed=7, progress=print).run()
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import deps
from chalicelib.domain.staff import StaffMember
from chalicelib.errors import ClearloopError
from chalicelib.notify.port import Notification

STAFF_PREFIX = "demo"

# (subject, description) per top-level category; {place} and {detail} are filled in.
TEXTS: dict[str, list[tuple[str, str]]] = {
    "product": [
        (
            "Label lists the wrong ingredients",
            "The {detail} label on the shelf does not match the pack.",
        ),
        ("Product broke after two days", "The {detail} I bought stopped working after two days."),
        (
            "Instructions missing",
            "The box of the {detail} had no instructions in Chinese or English.",
        ),
    ],
    "service": [
        (
            "Waited over an hour at {place}",
            "I waited more than an hour at {place}; only one counter was open.",
        ),
        ("Rude answer at the counter", "The answer I got at {place} was unfriendly and unhelpful."),
        ("Opening hours not as posted", "{place} was closed although the sign says it is open."),
        ("Thank you to the staff", "The staff at {place} were very helpful with my {detail}."),
    ],
    "process": [
        (
            "Form asks for the same data twice",
            "The {detail} form asks for my address on two pages.",
        ),
        ("Fee charged twice", "I was charged the {detail} fee twice this month."),
        ("Online payment fails", "Paying the {detail} online fails at the last step."),
    ],
    "environment": [
        ("Street lamp out on {place}", "The street lamp near {place} has been dark for a week."),
        ("Overflowing bins at {place}", "The bins at {place} overflow every weekend."),
        ("Noise at night near {place}", "Loud noise from {place} after midnight, several nights."),
        ("Pothole on {place}", "A deep pothole on {place} is dangerous for cyclists."),
    ],
    "safety": [
        (
            "Broken railing at {place}",
            "The railing by the stairs at {place} is loose. Danger for children.",
        ),
        (
            "No ramp at the entrance of {place}",
            "Wheelchair users cannot enter {place}: there is no ramp.",
        ),
        ("Exposed cables at {place}", "Electric cables hang loose near {place}. Urgent."),
    ],
    "other": [
        ("Suggestion for the website", "It would help to have the {detail} page in large print."),
        ("Question about opening days", "Will {place} be open on the public holiday?"),
    ],
}
PLACES = (
    "Harbour Road",
    "the Central Library",
    "Elm Street",
    "the North Service Centre",
    "Riverside Park",
    "Station Square",
    "the Market Hall",
    "Hill Lane",
)
DETAILS = (
    "parking permit",
    "water bill",
    "kettle",
    "library card",
    "rice cooker",
    "residence certificate",
    "lunch box",
    "bicycle lock",
)
RESOLUTIONS: dict[str, list[str]] = {
    "product": [
        "The supplier corrected the label and the shelf stock was replaced.",
        "We replaced the product and sent the faulty batch back for testing.",
    ],
    "service": [
        "A second counter now opens when more than ten people are waiting.",
        "We spoke with the team and reviewed how questions are answered at the counter.",
        "The opening hours sign was corrected.",
    ],
    "process": [
        "The duplicate field was removed from the form.",
        "The double charge was refunded and the billing rule fixed.",
        "The payment page was repaired; payments work again.",
    ],
    "environment": [
        "The lamp was repaired.",
        "Bins are now emptied on Saturday and Sunday.",
        "The noise was checked and the venue was warned.",
        "The pothole was filled.",
    ],
    "safety": [
        "The railing was fixed the same day.",
        "A temporary ramp was installed; a permanent one is planned.",
        "The cables were made safe by the electricity company.",
    ],
    "other": ["Large print is now available.", "Yes: opening days are listed on the website."],
}
PII_SNIPPETS = (
    "You can call me on 139 1234 5678.",
    "My e-mail is li.na@example.cn if you need more.",
    "My ID number is 11010519491231002X for the record.",
    "Reach me at +44 20 7946 0958 in the evening.",
    "Landline: 010-6552 9988.",
    "Reset link I got: https://portal.example.org/reset?token=9f8e7d6c5b4a",
)
NAMES = ("Li Na", "Wang Wei", "Zhang Min", "Chen Jing", "Alex Morgan", "Sam Taylor", "Maria Rossi")
CHANNEL_WEIGHTS = {
    "web": 52,
    "phone": 15,
    "email": 9,
    "letter": 3,
    "box": 3,
    "in_person": 10,
    "open311": 8,
}
TYPE_WEIGHTS = {"complaint": 40, "suggestion": 18, "inquiry": 20, "praise": 7, "report": 15}


class MovableClock:
    """The demo's clock: set to each simulated action's time."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class SeededRandom:
    """Ticket numbers and keys drawn from the demo's seeded generator (reproducible)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def token_bytes(self, n: int) -> bytes:
        return self._rng.randbytes(n)


class NullNotifier:
    """The demo's notifications go nowhere (the outbox would fill with made-up mail)."""

    def send(self, notification: Notification) -> None:
        return None


@dataclass
class DemoReport:
    submitted: int = 0
    acknowledged: int = 0
    resolved: int = 0
    rejected: int = 0
    merged: int = 0
    rated: int = 0
    reopened: int = 0
    approved: int = 0
    breaches: int = 0
    skipped: int = 0
    open_at_end: int = 0


@dataclass
class _Ticket:
    number: str
    key: str
    category: str
    top: str
    department: str
    submitted: datetime
    fr_due: datetime
    res_due: datetime
    consent: bool
    status: str = "received"
    rounds: int = 0
    notes: dict[str, Any] = field(default_factory=dict)


class DemoLoader:
    def __init__(
        self,
        *,
        tickets: int = 300,
        days: int = 90,
        seed: int = 7,
        now: datetime | None = None,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        if tickets < 1 or days < 1:
            raise ValueError("tickets and days must be positive")
        self.count = tickets
        self.days = days
        self.rng = random.Random(seed)  # noqa: S311 - made-up data must be reproducible
        self.end = (now or datetime.now(UTC)).astimezone(UTC)
        self.start = self.end - timedelta(days=days)
        self.clock = MovableClock(self.start)
        self.progress = progress
        self.report = DemoReport()
        self._queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._tickets: list[_Ticket] = []

    # -- plumbing ---------------------------------------------------------------------------

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        if when <= self.end:
            heapq.heappush(self._queue, (when, next(self._seq), action))

    def _try(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except ClearloopError:
            self.report.skipped += 1  # the ticket moved on meanwhile (a sweep, a merge...)
            return None

    def _staff(self) -> None:
        service = deps.staff_access_service()
        directory = deps.directory()
        self.agents: dict[str, StaffMember] = {}
        self.supervisors: dict[str, StaffMember] = {}
        for dept in directory.ids():
            name = directory.get(dept).name("en")
            self.agents[dept] = service.add_staff(
                f"{STAFF_PREFIX}-agent-{dept}",
                f"Demo agent ({name})",
                "agent",
                [dept],
                replace=True,
            )
            self.supervisors[dept] = service.add_staff(
                f"{STAFF_PREFIX}-supervisor-{dept}",
                f"Demo supervisor ({name})",
                "supervisor",
                [dept],
                replace=True,
            )

    def run(self) -> DemoReport:
        """Load the data set; returns what happened."""
        deps.override(clock=self.clock, random=SeededRandom(self.rng), notifier=NullNotifier())
        self._staff()
        self.submission = deps.submission_service()
        self.work = deps.ticket_work_service()
        self.submitter = deps.submitter_service()
        self.publication = deps.publication_service()
        self.sweep = deps.sweep_service()
        self.taxonomy = deps.taxonomy()
        for when in self._submission_times():
            self._at(when, self._submit)
        hour = self.start.replace(minute=30, second=0, microsecond=0)
        while hour <= self.end:
            self._at(hour, self._sweep)
            hour += timedelta(hours=1)
        step = max(1, self.count // 10)
        while self._queue:
            when, _, action = heapq.heappop(self._queue)
            self.clock.current = when
            before = self.report.submitted
            action()
            if self.report.submitted != before and self.report.submitted % step == 0:
                day = (when - self.start).days + 1
                self.progress(
                    f"demo: {self.report.submitted}/{self.count} tickets "
                    f"(day {day} of {self.days}; {self.report.resolved} resolved so far)"
                )
        self.clock.current = self.end
        self.report.open_at_end = sum(
            1
            for t in self._tickets
            if t.status in ("received", "acknowledged", "in_progress", "awaiting_info", "reopened")
        )
        return self.report

    def _submission_times(self) -> list[datetime]:
        """Busier on weekdays and in office hours; a little busier lately."""
        times: list[datetime] = []
        while len(times) < self.count:
            t = self.start + timedelta(seconds=self.rng.uniform(0, self.days * 86400))
            weight = (1.0 if t.weekday() < 5 else 0.45) * (1.0 if 7 <= t.hour < 21 else 0.25)
            weight *= 0.8 + 0.4 * (t - self.start) / (self.end - self.start)
            if self.rng.random() < weight:
                times.append(t)
        return sorted(times)

    def _sweep(self) -> None:
        report = self._try(self.sweep.run)
        if report is not None:
            self.report.breaches += report.breached
            for t in self._tickets:
                if (
                    t.status == "resolved"
                    and t.notes.get("resolved_at")
                    and (self.clock.now() - t.notes["resolved_at"] > deps.timers().autoclose_after)
                ):
                    t.status = "closed"

    # -- the story of one ticket ------------------------------------------------------------

    def _submit(self) -> None:
        rng = self.rng
        top = rng.choice(self.taxonomy.top)
        leaf = rng.choice(top.children) if top.children and rng.random() < 0.85 else top
        subject, description = rng.choice(TEXTS.get(top.code, TEXTS["other"]))
        fill = {"place": rng.choice(PLACES), "detail": rng.choice(DETAILS)}
        subject, description = subject.format(**fill), description.format(**fill)
        if rng.random() < 0.18:
            description += " " + rng.choice(PII_SNIPPETS)
        channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        kind = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
        if top.code == "service" and subject.startswith("Thank"):
            kind = "praise"
        payload: dict[str, Any] = {
            "type": kind,
            "category": leaf.code,
            "subject": subject,
            "description": description,
            "consent_to_publish": rng.random() < 0.6,
            "language": "en",
        }
        if rng.random() < 0.3:
            payload["location"] = fill["place"]
        if rng.random() < 0.55:
            name = rng.choice(NAMES)
            payload["contact"] = {
                "name": name,
                "email": name.lower().replace(" ", ".") + "@example.org",
                "consent_to_contact": True,
            }
        dept = leaf.department
        actor = None
        if channel not in ("web", "open311"):
            agent = self.agents.get(dept) or next(iter(self.agents.values()))
            actor = (f"staff:{agent.id}", agent.public_label)
        result = self._try(lambda: self.submission.submit(payload, channel=channel, actor=actor))
        if result is None:
            return
        body = result.body
        view = self.work.load(self.supervisors[dept], body["number"])
        ticket = _Ticket(
            number=body["number"],
            key=body["key"],
            category=leaf.code,
            top=top.code,
            department=view.ticket.department,
            submitted=self.clock.now(),
            fr_due=datetime.fromisoformat(body["deadlines"]["first_response"]),
            res_due=datetime.fromisoformat(body["deadlines"]["resolution"]),
            consent=payload["consent_to_publish"],
        )
        if "contact" in payload:
            ticket.notes["name"] = payload["contact"]["name"]
        self._tickets.append(ticket)
        self.report.submitted += 1
        fate = rng.random()
        if fate < 0.04:
            self._at(self._soon(0.2, 6), lambda: self._reject(ticket, "spam"))
        elif fate < 0.09:
            self._at(
                self._before(ticket, ticket.fr_due), lambda: self._reject(ticket, "out_of_scope")
            )
        elif fate < 0.14:
            self._at(self._before(ticket, ticket.fr_due), lambda: self._merge(ticket))
        else:
            self._at(self._respond_time(ticket), lambda: self._acknowledge(ticket))

    def _soon(self, low_hours: float, high_hours: float) -> datetime:
        return self.clock.now() + timedelta(hours=self.rng.uniform(low_hours, high_hours))

    def _before(self, t: _Ticket, due: datetime) -> datetime:
        span = max(timedelta(minutes=10), due - t.submitted)
        return t.submitted + span * self.rng.uniform(0.1, 0.9)

    def _respond_time(self, t: _Ticket) -> datetime:
        """Mostly within the deadline; about one in six late (the sweep records the breach)."""
        span = max(timedelta(minutes=10), t.fr_due - t.submitted)
        factor = (
            self.rng.uniform(0.05, 0.9) if self.rng.random() < 0.84 else self.rng.uniform(1.1, 4)
        )
        return t.submitted + span * factor

    def _agent(self, t: _Ticket) -> StaffMember:
        return self.agents.get(t.department) or next(iter(self.agents.values()))

    def _supervisor(self, t: _Ticket) -> StaffMember:
        return self.supervisors.get(t.department) or next(iter(self.supervisors.values()))

    def _transition(self, t: _Ticket, who: StaffMember, body: dict[str, Any]) -> bool:
        done = self._try(lambda: self.work.transition(who, t.number, body, None))
        if done is None:
            return False
        t.status = done["status"]
        return True

    def _reject(self, t: _Ticket, kind: str) -> None:
        reason = (
            "This message is advertising and has been removed."
            if kind == "spam"
            else "This is handled by another organisation; we forwarded the contact details."
        )
        if self._transition(
            t, self._agent(t), {"status": "rejected", "text": reason, "reject_kind": kind}
        ):
            self.report.rejected += 1

    def _merge(self, t: _Ticket) -> None:
        candidates = [
            o
            for o in self._tickets
            if o is not t
            and o.department == t.department
            and o.top == t.top
            and o.status not in ("merged", "rejected")
            and not o.notes.get("duplicate")
        ]
        if not candidates:
            self._at(self._respond_time(t), lambda: self._acknowledge(t))
            return
        survivor = candidates[-1]
        t.notes["duplicate"] = True
        if self._transition(t, self._agent(t), {"status": "merged", "merge_into": survivor.number}):
            self.report.merged += 1
        else:
            self._at(self._respond_time(t), lambda: self._acknowledge(t))

    def _acknowledge(self, t: _Ticket) -> None:
        if t.status != "received":
            return
        agent = self._agent(t)
        view = self._try(lambda: self.work.get(agent, t.number))
        if view is None:
            return
        summary = view["subject"]
        if self.rng.random() < 0.1:
            # Careless summaries, for the redaction preview to catch before approval.
            who = t.notes.get("name")
            summary += f" (reported by {who}, 138 0013 8000)" if who else " (call 138 0013 8000)"
        self._try(
            lambda: self.work.triage(agent, t.number, view["version"], {"public_summary": summary})
        )
        if self.rng.random() < 0.35:
            thanks = {"public": True, "text": "Thank you, we are looking into it."}
            self._try(lambda: self.work.reply(agent, t.number, thanks))
        if not self._transition(
            t, agent, {"status": "acknowledged", "text": "We have received your feedback."}
        ):
            return
        self.report.acknowledged += 1
        self._at(self._soon(0.1, 4), lambda: self._start_work(t))

    def _start_work(self, t: _Ticket) -> None:
        if not self._transition(t, self._agent(t), {"status": "in_progress"}):
            return
        if self.rng.random() < 0.15 and not t.notes.get("asked"):
            t.notes["asked"] = True
            self._at(self._soon(1, 24), lambda: self._ask(t))
        else:
            self._at(self._resolve_time(t), lambda: self._resolve(t))

    def _ask(self, t: _Ticket) -> None:
        if not self._transition(
            t,
            self._agent(t),
            {"status": "awaiting_info", "text": "Could you tell us the exact place and time?"},
        ):
            return
        self._at(self._soon(2, 72), lambda: self._answer(t))

    def _answer(self, t: _Ticket) -> None:
        done = self._try(
            lambda: self.submitter.add_message(
                t.number, t.key, {"text": "It was on Monday around 8 in the morning."}
            )
        )
        if done is not None:
            t.status = done["status"]
            self._at(self._resolve_time(t), lambda: self._resolve(t))

    def _resolve_time(self, t: _Ticket) -> datetime:
        start: datetime = t.notes.get("round_start", t.submitted)
        span = max(timedelta(hours=1), t.res_due - start)
        late = self.rng.random() < 0.2
        factor = self.rng.uniform(1.05, 2.5) if late else self.rng.uniform(0.2, 0.95)
        return max(self.clock.now() + timedelta(minutes=30), start + span * factor)

    def _resolve(self, t: _Ticket) -> None:
        text = self.rng.choice(RESOLUTIONS.get(t.top, RESOLUTIONS["other"]))
        if self.rng.random() < 0.08:
            text += " Contact the site manager on 021-6123 4567 with questions."
        if not self._transition(t, self._agent(t), {"status": "resolved", "text": text}):
            return
        t.rounds += 1
        t.notes["resolved_at"] = self.clock.now()
        self.report.resolved += 1
        if self.rng.random() < 0.55:
            self._at(self._soon(2, 24 * 9), lambda: self._rate(t))
        if t.consent and self.rng.random() < 0.45:
            self._at(self._soon(4, 24 * 4), lambda: self._approve(t))

    def _rate(self, t: _Ticket) -> None:
        if t.status != "resolved":
            return
        weights = (6, 6, 10, 30, 48) if t.rounds == 1 else (3, 3, 10, 34, 50)
        score = self.rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
        body: dict[str, Any] = {"score": score}
        if self.rng.random() < 0.3:
            body["comment"] = "Thanks." if score >= 4 else "The problem is still there."
        done = self._try(lambda: self.submitter.rate(t.number, t.key, body))
        if done is None:
            return
        self.report.rated += 1
        t.status = done["status"]
        if t.status == "reopened":
            self.report.reopened += 1
            self._at(self._soon(1, 12), lambda: self._restart(t))

    def _restart(self, t: _Ticket) -> None:
        if self._transition(
            t,
            self._supervisor(t),
            {"status": "in_progress", "text": "A supervisor is looking at this again."},
        ):
            view = self._try(lambda: self.work.get(self._agent(t), t.number))
            if view is not None:
                t.res_due = datetime.fromisoformat(view["deadlines"]["resolution"])
                t.notes["round_start"] = self.clock.now()
            self._at(self._resolve_time(t), lambda: self._resolve(t))

    def _approve(self, t: _Ticket) -> None:
        supervisor = self._supervisor(t)
        preview = self._try(
            lambda: self.publication.act(supervisor, t.number, {"action": "preview"})
        )
        if preview is None or not preview["eligible"]:
            return
        if self._try(lambda: self.publication.act(supervisor, t.number, {"action": "approve"})):
            self.report.approved += 1
