"""Use case: the sweep over everything due (every 5 minutes, and daily for auto-close and
retention): SLA warnings and breaches with escalation, auto-close of resolved tickets, and the
purge of contact details past their retention period.

It reads only the due index (``list_due``), never the whole store. Every change is saved with
the version it read, so a second sweep running at the same time loses the race for each ticket
it did not win and sends nothing for it: each notification goes out once per
(ticket, target, deadline). Notifications are sent after the save, so a crash between the two
loses the message rather than sending it twice; the breach itself is recorded either way.

Tickets due for a job this run does not do (a resolved ticket waiting for the daily auto-close,
seen by the 5-minute SLA run) stay at the head of the due list. Each further read asks for that
many more tickets, so they never hide the work behind them; the price is that the 5-minute run
reads them again until the daily run has handled them.

Each run that does the SLA job reports how many deadlines it found newly breached (0
included) as the metric ``SlaBreaches`` through the injected ``metrics`` adapter (CloudWatch on
AWS, where the SLA-breach alarm watches it). The count is sent after every ticket is saved; if
it cannot be sent the run raises (``MetricsError``), so the failure shows in the sweep-failures
alarm rather than as a silent gap in the breach alarm, and the next run (which is safe to
repeat) reports again.

Example::

    report = SweepService(
        store, clock, policy, timers, notifier, directory, metrics=metrics
    ).run()
    print(report.breached, report.closed, report.purged)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.crypto.port import ContactCipher
from chalicelib.domain.attachments import attachments_of, without_attachments
from chalicelib.domain.departments import Directory
from chalicelib.domain.sla import Policy
from chalicelib.domain.sla_state import FINISHED, SlaAlert, Timers, evaluate
from chalicelib.domain.tickets import Ticket
from chalicelib.errors import NotFoundError, StaleVersionError
from chalicelib.i18n.events import system_text
from chalicelib.notify.messages import DEFAULT_LANGUAGE, notify_submitter, sla_alert_message
from chalicelib.notify.port import Notifier
from chalicelib.observe.port import SLA_BREACHES, Metrics, NoMetrics
from chalicelib.services.changes import Change
from chalicelib.services.ports import Clock
from chalicelib.services.views import public_time
from chalicelib.store.port import TicketStore

log = logging.getLogger("clearloop.sweep")
BATCH = 200
MAX_TICKETS = 10_000  # per run; whatever is left is still due for the next run
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
    deferred: int = 0  # due, but for a job this run does not do
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
        *,
        cipher: ContactCipher | None = None,
        language: str = DEFAULT_LANGUAGE,
        batch: int = BATCH,
        metrics: Metrics | None = None,
        purge_attachments: Callable[[Ticket], int] | None = None,
    ) -> None:
        """``cipher``, when given, lets an auto-close tell a consenting submitter (it reads the
        e-mail address); ``language`` is the one department messages are written in; ``batch``
        is how many due tickets one read asks for; ``metrics`` receives the SLA-breach count of
        each run that does the SLA job (none recorded when not given); ``purge_attachments``
        deletes a ticket's stored photos (the retention purge erases them with the contact
        details)."""
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._store = store
        self._clock = clock
        self._policy = policy
        self._timers = timers
        self._notifier = notifier
        self._directory = directory
        self._cipher = cipher
        self._language = language
        self._batch = batch
        self._metrics: Metrics = metrics if metrics is not None else NoMetrics()
        self._purge_attachments = purge_attachments

    def run(self, jobs: frozenset[str] = ALL_JOBS) -> SweepReport:
        """Handle every ticket due now for ``jobs``; safe to run twice or concurrently.

        The 5-minute schedule runs ``{"sla"}``; the daily one ``{"autoclose", "retention"}``.
        """
        unknown = jobs - ALL_JOBS
        if unknown:
            raise ValueError(f"unknown sweep jobs: {sorted(unknown)}")
        now = self._clock.now()
        report = SweepReport()
        self._sweep(jobs, now, report)
        if "sla" in jobs:
            # Every SLA run reports, 0 included: the metric also shows that sweeps happen.
            self._metrics.count(SLA_BREACHES, report.breached, now)
        return report

    def _sweep(self, jobs: frozenset[str], now: datetime, report: SweepReport) -> None:
        seen: set[str] = set()
        limit = self._batch
        while True:
            due = self._store.list_due(now, limit)
            fresh = [t for t in due if t.number not in seen]
            report.read += len(fresh)
            for ticket in fresh:
                seen.add(ticket.number)
                if _job_of(ticket) in jobs:
                    self._handle(ticket, report)
                else:
                    report.deferred += 1
            if len(due) < limit or not fresh or len(seen) >= MAX_TICKETS:
                return  # everything due was read (or this run has done its share)
            # Tickets seen may still head the list (deferred, lost races, an index that lags):
            # ask for as many more, so the next read reaches past them.
            limit = self._batch + len(seen)

    def _handle(self, ticket: Ticket, report: SweepReport) -> None:
        now = self._clock.now()
        change = Change(ticket, now, actor="system", actor_label="system")
        alerts: list[SlaAlert] = []
        if ticket.status == "resolved":
            change.ticket = ticket.replace(status="closed", closed_at=now)
            said, saved = system_text(
                "event.closed_automatically",
                {"from": "resolved", "to": "closed", "automatic": True},
            )
            change.event("status_changed", public=True, text=said, data=saved)
        elif ticket.status in FINISHED:
            if not self._purge(change):
                return
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
                    change.ticket = change.ticket.replace(escalated=True)
                    change.event(
                        "escalated",
                        public=False,
                        text=f"Escalated to the {ticket.department} supervisor: SLA breach.",
                        data={"reason": "sla_breach", "target": alert.kind},
                    )
        built = change.build(self._policy, self._timers)
        if not change.events and built.ticket.due_at == ticket.due_at:
            return  # nothing happened and nothing moved: leave the ticket untouched
        try:
            self._store.save_tickets([built])
        except (StaleVersionError, NotFoundError):
            report.lost_races += 1  # another sweep or a staff member got there first
            return
        # Counted only once saved: the sweep that lost the race reports nothing for the ticket.
        if ticket.status == "resolved":
            report.closed += 1
        elif ticket.status in FINISHED:
            report.purged += 1
        for alert in alerts:
            if alert.alert == "breached":
                report.breached += 1
            else:
                report.due_soon += 1
            self._notify(ticket, alert, report)
        if built.ticket.status == "closed" and ticket.status == "resolved" and self._cipher:
            sent = notify_submitter(self._notifier, self._cipher, built.ticket)
            if sent is not None:
                report.notifications.append(sent.dedupe_key)

    def _purge(self, change: Change) -> bool:
        """Erase what a finished ticket has kept past its retention: the contact details, and
        the photos (their blobs first, so no photo outlives its record); False if nothing."""
        ticket, now = change.ticket, change.now
        finished = ticket.closed_at or ticket.updated_at
        if (
            ticket.contact_ciphertext is not None
            and now >= finished + self._timers.contact_retention
        ):
            change.ticket = change.ticket.replace(contact_ciphertext=None, consent_to_contact=False)
            change.event("contact_purged", public=False, text="Contact details erased (retention).")
        if (
            self._purge_attachments is not None
            and attachments_of(ticket)
            and now >= finished + self._timers.attachments_kept
        ):
            try:
                deleted = self._purge_attachments(ticket)
            except Exception:
                # The photos stay recorded (and due): the next daily run tries again. One
                # unreachable bucket must not stop the contact purge or the rest of the run.
                log.exception("photo purge failed for %s", ticket.number)
                return bool(change.events)
            change.ticket = without_attachments(change.ticket, now)
            change.event(
                "attachments_purged",
                public=False,
                text="Photos erased (retention).",
                data={"photos": len(attachments_of(ticket)), "files": deleted},
            )
        return bool(change.events)

    def _notify(self, ticket: Ticket, alert: SlaAlert, report: SweepReport) -> None:
        key = f"{ticket.number}:{alert.kind}:{alert.alert}"
        try:
            department = self._directory.get(ticket.department)
            notification = sla_alert_message(ticket, alert, department, self._language)
            self._notifier.send(notification)
            report.notifications.append(notification.dedupe_key)
        except Exception:
            # The breach is recorded on the ticket and in the staff queues either way; one
            # failed message must not stop the run, so it is logged as an error and skipped.
            log.exception("notification failed for %s", key)
