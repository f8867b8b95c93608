"""Use case: the sweep over everything due (every 5 minutes, and daily for auto-close and
retention): SLA warnings and breaches with escalation, auto-close of resolved tickets, and the
purge of contact details past their retention period.

It reads only the due index (``list_due``), never the whole store. Every change is saved with
the version it read, so a second sweep running at the same time loses the race for each ticket
it did not win and sends nothing for it: each notification goes out once per
(ticket, target, deadline).

Example::

    report = SweepService(store, clock, policy, timers, notifier, directory).run()
    print(report.breached, report.closed, report.purged)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chalicelib.domain.departments import Directory
from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import FINISHED, SlaAlert, Timers, evaluate
from chalicelib.domain.tickets import Ticket
from chalicelib.errors import NotFoundError, StaleVersionError
from chalicelib.notify.port import Notification, Notifier
from chalicelib.services.changes import Change
from chalicelib.services.ports import Clock
from chalicelib.services.views import public_time
from chalicelib.store.port import TicketStore

log = logging.getLogger("clearloop.sweep")
BATCH = 200
MAX_BATCHES = 50
ALL_JOBS = frozenset({"sla", "autoclose", "retention"})


def _job_of(ticket: Ticket) -> str:
    if ticket.status == "resolved":
        return "autoclose"
    if ticket.status in FINISHED:
        return "retention"
    return "sla"


@dataclass
class SweepReport:
    read: int = 0
    due_soon: int = 0
    breached: int = 0
    closed: int = 0
    purged: int = 0
    lost_races: int = 0
    notifications: list[str] = field(default_factory=list)


class SweepService:
    def __init__(
        self,
        store: TicketStore,
        clock: Clock,
        policy: Policy,
        timers: Timers,
        notifier: Notifier,
        directory: Directory,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._timers = timers
        self._notifier = notifier
        self._directory = directory

    def run(self, jobs: frozenset[str] = ALL_JOBS) -> SweepReport:
        """Handle every ticket due now for ``jobs``; safe to run twice or concurrently.

        The 5-minute schedule runs ``{"sla"}``; the daily one ``{"autoclose", "retention"}``.
        """
        unknown = jobs - ALL_JOBS
        if unknown:
            raise ValueError(f"unknown sweep jobs: {sorted(unknown)}")
        now = self._clock.now()
        report = SweepReport()
        seen: set[str] = set()
        for _ in range(MAX_BATCHES):
            due = [t for t in self._store.list_due(now, BATCH) if t.number not in seen]
            report.read += len(due)
            if not due:
                break
            for ticket in due:
                seen.add(ticket.number)
                if _job_of(ticket) in jobs:
                    self._handle(ticket, report)
        return report

    def _handle(self, ticket: Ticket, report: SweepReport) -> None:
        now = self._clock.now()
        change = Change(ticket, now, actor="system", actor_label="system")
        alerts: list[SlaAlert] = []
        if ticket.status == "resolved":
            change.ticket = ticket.replace(status="closed", closed_at=now)
            change.event(
                "status_changed",
                public=True,
                text="Closed automatically: no reopening was asked for.",
                data={"from": "resolved", "to": "closed", "automatic": True},
            )
            report.closed += 1
        elif ticket.status in FINISHED:
            if ticket.contact_ciphertext is None:
                return
            change.ticket = ticket.replace(contact_ciphertext=None, consent_to_contact=False)
            change.event("contact_purged", public=False, text="Contact details erased (retention).")
            report.purged += 1
        else:
            new, alerts = evaluate(ticket, now, self._policy)
            change.ticket = new
            for alert in alerts:
                change.event(
                    f"sla_{alert.alert}",
                    public=False,
                    text=f"{alert.kind.replace('_', ' ').capitalize()} target "
                    f"{'breached' if alert.alert == 'breached' else 'due soon'} "
                    f"(deadline {public_time(alert.deadline)}).",
                    data={"target": alert.kind, "deadline": public_time(alert.deadline)},
                )
                if alert.alert == "breached":
                    report.breached += 1
                    change.ticket = change.ticket.replace(escalated=True)
                    change.event(
                        "escalated",
                        public=False,
                        text=f"Escalated to the {ticket.department} supervisor: SLA breach.",
                        data={"reason": "sla_breach", "target": alert.kind},
                    )
                else:
                    report.due_soon += 1
        built = change.build(self._policy, self._timers)
        if not change.events and built.ticket.due_at == ticket.due_at:
            return  # nothing happened and nothing moved: leave the ticket untouched
        try:
            self._store.save_tickets([built])
        except (StaleVersionError, NotFoundError):
            report.lost_races += 1  # another sweep or a staff member got there first
            return
        for alert in alerts:
            self._notify(ticket, alert, report)

    def _notify(self, ticket: Ticket, alert: SlaAlert, report: SweepReport) -> None:
        dept = self._directory.get(ticket.department)
        breached = alert.alert == "breached"
        to = dept.supervisor_email if breached else dept.email
        what = "breached" if breached else "due soon"
        target = alert.kind.replace("_", " ")
        notification = Notification(
            to=to,
            subject=f"[Clearloop] {ticket.number}: {target} {what} ({ticket.priority})",
            body=(
                f"Ticket {ticket.number} ({ticket.priority}, {ticket.category}) in {dept.id}: "
                f"the {target} target is {what}. Deadline: {public_time(alert.deadline)}."
            ),
            kind=f"sla_{alert.alert}",
            number=ticket.number,
            dedupe_key=f"{ticket.number}:{alert.kind}:{alert.alert}:{public_time(alert.deadline)}",
        )
        try:
            self._notifier.send(notification)
            report.notifications.append(notification.dedupe_key)
        except Exception:
            # The breach is recorded on the ticket either way; a failed send is logged and the
            # alarm on sweep failures (infra) picks it up.
            log.exception("notification failed for %s", notification.dedupe_key)
