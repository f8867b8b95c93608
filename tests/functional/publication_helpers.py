"""Steps shared by the publication and publishing tests: get a ticket resolved, approve it."""

from __future__ import annotations

from typing import Any

from tests.functional.conftest import Api
from tests.functional.staff_helpers import call, data, submit


def transition(api: Api, who: dict[str, str], number: str, body: dict[str, Any]) -> Any:
    r = call(api, "POST", f"/v1/staff/tickets/{number}/transitions", body, **who)
    assert r.status_code == 200, r.body
    return data(r)


def resolve(
    api: Api,
    who: dict[str, str],
    *,
    summary: str | None = "Queue at counter 3 was too long.",
    resolution: str = "A second counter now opens at busy times.",
    **submission: Any,
) -> dict[str, Any]:
    """Submit (with consent unless told otherwise), triage and resolve; returns the creation."""
    created = submit(api, **submission)
    number = created["number"]
    if summary is not None:
        view = data(call(api, "GET", f"/v1/staff/tickets/{number}", **who))
        r = call(
            api,
            "PATCH",
            f"/v1/staff/tickets/{number}",
            {"public_summary": summary},
            **who,
            **{"If-Match": str(view["version"])},
        )
        assert r.status_code == 200, r.body
    transition(api, who, number, {"status": "acknowledged"})
    transition(api, who, number, {"status": "in_progress"})
    transition(api, who, number, {"status": "resolved", "text": resolution})
    return created


def publication(
    api: Api, who: dict[str, str], number: str, body: dict[str, Any], **headers: str
) -> Any:
    return call(api, "POST", f"/v1/staff/tickets/{number}/publication", body, **who, **headers)


def approve(api: Api, who: dict[str, str], number: str) -> str:
    """Approve ``number`` for the board; returns its public board id (its page's URL)."""
    r = publication(api, who, number, {"action": "approve"})
    assert r.status_code == 200, r.body
    board_id: str = data(r)["publication"]["board_id"]
    return board_id
