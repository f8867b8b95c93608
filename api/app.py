"""Clearloop API: routes and schedules only. Routes live in blueprints
(``chalicelib/routes``); each parses input, calls one use case, and maps the result (or a
domain error, via ``chalicelib.http``) to a response."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Rate, Response

from chalicelib import deps
from chalicelib.http import (
    add_language_headers,
    add_security_headers,
    language,
    reset_language,
    reshape_chalice_error,
    set_language,
)
from chalicelib.routes import attachments, open311, public, staff

app = Chalice(app_name="clearloop")
app.log.setLevel(logging.INFO)
app.register_blueprint(public.bp)
app.register_blueprint(staff.bp)
app.register_blueprint(attachments.bp)
# Photo uploads (local stage) and WebP photos travel as bytes, not text.
app.api.binary_types.extend(["multipart/form-data", "image/webp"])
app.register_blueprint(open311.bp)


@app.middleware("http")
def _edge(event: Any, get_response: Callable[[Any], Response]) -> Response:
    lang = language(event)
    token = set_language(lang)
    try:
        response = reshape_chalice_error(open311.reshape_chalice_error(event, get_response(event)))
    finally:
        reset_language(token)
    return add_language_headers(add_security_headers(response), lang)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="sla_sweep")
def sla_sweep(event: Any) -> dict[str, int]:
    """SLA warnings and breaches, escalations and notifications (SPEC §4)."""
    report = deps.sweep_service().run(frozenset({"sla"}))
    app.log.info("sla sweep: %s", report)
    return {"read": report.read, "due_soon": report.due_soon, "breached": report.breached}


@app.schedule(Rate(1, unit=Rate.HOURS), name="publish")
def publish(event: Any) -> dict[str, Any]:
    """The transparency page and the resolved-issue board, to the site bucket (SPEC §4-5)."""
    report = deps.publish_service().run()
    app.log.info("publish: %s", report)
    return {"files": report.files, "deleted": report.deleted, "board_items": report.board_items}


@app.schedule(Rate(1, unit=Rate.DAYS), name="daily_housekeeping")
def daily_housekeeping(event: Any) -> dict[str, int]:
    """Auto-close resolved tickets past the reopening window; erase expired contact details
    and expired rate-limit counters (the retention of client hashes)."""
    report = deps.sweep_service().run(frozenset({"autoclose", "retention"}))
    counters = deps.rate_limit_service().purge_expired()
    app.log.info("housekeeping: %s, rate counters purged %d", report, counters)
    return {
        "read": report.read,
        "closed": report.closed,
        "purged": report.purged,
        "rate_counters_purged": counters,
    }
