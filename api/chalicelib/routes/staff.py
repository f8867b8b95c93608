"""Staff routes. Every one goes through ``staff_route``: the bearer token is authenticated and
the role checked in that one place; the department of a ticket is checked by the use case that
loads it (``StaffMember.require``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib import deps
from chalicelib.domain.staff import Permission, StaffMember
from chalicelib.errors import ValidationError
from chalicelib.http import cors_config, handles_errors, header, json_body, json_response, query

# services.ticket_work (and the domain behind it) is imported by the views that use it, not here:
# at import it was about half of ``import app``, paid by every cold start, public requests too.
if TYPE_CHECKING:
    from chalicelib.services.ticket_work import QueueRequest

bp = Blueprint(__name__)
CORS = cors_config()
OFFLINE_CHANNELS = ("phone", "email", "letter", "box", "in_person")

View = Callable[..., Response]


def staff_route(
    path: str, method: str, permission: Permission = Permission.WORK
) -> Callable[[Callable[..., Response]], View]:
    """Register a staff view: authenticate, check the role, then call ``view(staff, ...)``."""

    def register(view: Callable[..., Response]) -> View:
        def guarded(**params: str) -> Response:
            authorization = header(bp.current_request, "Authorization")
            staff = deps.staff_access_service().authenticate(authorization)
            staff.require(permission)
            return view(staff, **params)

        guarded.__name__ = view.__name__
        guarded.__doc__ = view.__doc__
        wrapped = handles_errors(guarded)
        bp.route(path, methods=[method], cors=CORS)(wrapped)
        return wrapped

    return register


def _queue_request() -> QueueRequest:
    from chalicelib.services.ticket_work import QueueRequest

    request = bp.current_request
    statuses = query(request, "status")
    due_before_text = query(request, "due_before")
    limit_text = query(request, "limit") or "25"
    due_before = None
    if due_before_text:
        try:
            due_before = datetime.fromisoformat(due_before_text)
        except ValueError:
            raise ValidationError(
                "due_before must be an ISO 8601 time.", {"due_before": "invalid"}
            ) from None
        if due_before.tzinfo is None:
            raise ValidationError("due_before needs a UTC offset.", {"due_before": "invalid"})
    if not (limit_text.isascii() and limit_text.isdigit()):
        raise ValidationError("limit must be a whole number.", {"limit": "invalid"})
    return QueueRequest(
        statuses=tuple(s for s in statuses.split(",") if s) if statuses else None,
        department=query(request, "department"),
        assignee=query(request, "assignee"),
        priority=query(request, "priority"),
        due_before=due_before,
        sla=query(request, "sla"),
        cursor=query(request, "cursor"),
        limit=int(limit_text[:6]),
    )


def _ticket_response(body: dict[str, Any], status: int = 200) -> Response:
    return json_response(body, status, {"ETag": f'"{body["version"]}"'})


@staff_route("/v1/staff/me", "GET")
def me(staff: StaffMember) -> Response:
    return json_response(
        {
            "id": staff.id,
            "name": staff.name,
            "role": staff.role,
            "departments": list(staff.departments),
        }
    )


@staff_route("/v1/staff/departments", "GET")
def departments(staff: StaffMember) -> Response:
    directory = deps.directory()
    members = [m for m in deps.store().list_staff() if m.active]
    return json_response(
        {
            "departments": [
                {
                    "id": d.id,
                    "name": d.name("en"),
                    "staff": [
                        {"id": m.id, "name": m.name, "role": m.role}
                        for m in members
                        if m.covers(d.id) and m.role != "admin"
                    ],
                }
                for d in directory.departments.values()
                if staff.covers(d.id)
            ]
        }
    )


@staff_route("/v1/staff/tickets", "GET")
def list_tickets(staff: StaffMember) -> Response:
    return json_response(deps.ticket_work_service().queue(staff, _queue_request()))


@staff_route("/v1/staff/tickets", "POST")
def intake(staff: StaffMember) -> Response:
    request = bp.current_request
    body = json_body(request)
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    channel = body.pop("channel", None)
    if channel not in OFFLINE_CHANNELS:
        raise ValidationError(
            "Say how the feedback arrived.",
            {"channel": f"must be one of {', '.join(OFFLINE_CHANNELS)}"},
        )
    result = deps.submission_service().submit(
        body,
        header(request, "Idempotency-Key"),
        channel=channel,
        actor=(f"staff:{staff.id}", staff.public_label),
    )
    return json_response(
        result.body, 201, {"Location": f"/v1/staff/tickets/{result.body['number']}"}
    )


@staff_route("/v1/staff/tickets/{number}", "GET")
def get_ticket(staff: StaffMember, number: str) -> Response:
    return _ticket_response(deps.ticket_work_service().get(staff, number))


@staff_route("/v1/staff/tickets/{number}", "PATCH")
def triage(staff: StaffMember, number: str) -> Response:
    from chalicelib.services.ticket_work import parse_if_match

    request = bp.current_request
    version = parse_if_match(header(request, "If-Match"))
    body = json_body(request)
    return _ticket_response(deps.ticket_work_service().triage(staff, number, version, body))


@staff_route("/v1/staff/tickets/{number}/transitions", "POST")
def transition(staff: StaffMember, number: str) -> Response:
    from chalicelib.services.ticket_work import parse_if_match

    request = bp.current_request
    version = parse_if_match(header(request, "If-Match"))
    body = json_body(request)
    return _ticket_response(deps.ticket_work_service().transition(staff, number, body, version))


@staff_route("/v1/staff/tickets/{number}/replies", "POST")
def reply(staff: StaffMember, number: str) -> Response:
    body = json_body(bp.current_request)
    return _ticket_response(deps.ticket_work_service().reply(staff, number, body), 201)


@staff_route("/v1/staff/tickets/{number}/publication", "POST")
def publication(staff: StaffMember, number: str) -> Response:
    """Preview (any staff of the department), approve or withdraw (a supervisor: checked by
    the use case against the ticket's department, which only it knows)."""
    from chalicelib.services.ticket_work import parse_if_match

    request = bp.current_request
    version = parse_if_match(header(request, "If-Match"))
    body = json_body(request)
    return json_response(deps.publication_service().act(staff, number, body, version))


@staff_route("/v1/staff/tickets/{number}/contact", "GET")
def contact(staff: StaffMember, number: str) -> Response:
    return json_response(deps.ticket_work_service().contact(staff, number))


@staff_route("/v1/staff/export.csv", "GET")
def export_csv(staff: StaffMember) -> Response:
    text, cursor = deps.ticket_work_service().export_csv(staff, _queue_request())
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="clearloop-tickets.csv"',
    }
    if cursor:
        headers["X-Next-Cursor"] = cursor
    return Response(body=text, status_code=200, headers=headers)


@staff_route("/v1/staff/canned", "GET")
def list_canned(staff: StaffMember) -> Response:
    category = query(bp.current_request, "category")
    return json_response({"canned": deps.ticket_work_service().list_canned(staff, category)})


@staff_route("/v1/staff/canned", "POST", Permission.ADMINISTER)
def add_canned(staff: StaffMember) -> Response:
    body = json_body(bp.current_request)
    return json_response(deps.ticket_work_service().add_canned(staff, body), 201)


@staff_route("/v1/staff/canned/{canned_id}", "DELETE", Permission.ADMINISTER)
def delete_canned(staff: StaffMember, canned_id: str) -> Response:
    deps.ticket_work_service().delete_canned(staff, canned_id)
    return Response(body="", status_code=204)
