"""The ticket status state machine (SPEC §2): the one place that says which change is legal.

::

    received ──► acknowledged ──► in_progress ──► resolved ──► closed
        │              │    ▲            │   ▲          │
        │              ▼    │            ▼   │          └──► reopened ──► in_progress
        │          awaiting_info ◄───────┘   │
        ├──► rejected   (spam or out of scope, with a public reason)
        └──► merged     (duplicate: points to the surviving ticket)

Two deliberate additions to the drawing, both recorded in docs/architecture: a ticket that is
already acknowledged may still be rejected or merged (duplicates and spam are often recognised
only after the first response), and ``awaiting_info`` may go straight to ``in_progress`` when the
missing information arrives by another channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import ConflictError, ValidationError

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("acknowledged", "rejected", "merged"),
    "acknowledged": ("in_progress", "awaiting_info", "rejected", "merged"),
    "awaiting_info": ("acknowledged", "in_progress"),
    "in_progress": ("resolved", "awaiting_info"),
    "resolved": ("closed", "reopened"),
    "reopened": ("in_progress",),
    "closed": (),
    "rejected": (),
    "merged": (),
}

# Targets that need a public text, and what it is called in error messages.
TEXT_REQUIRED = {
    "rejected": "reason",
    "resolved": "resolution",
    "awaiting_info": "question",
}
# Transitions only the system or the submitter makes (rating 1-2 reopens; the daily job closes).
SYSTEM_ONLY = frozenset({("resolved", "reopened")})
TEXT_MAX = 5000


class IllegalTransitionError(ConflictError):
    code = "illegal_transition"


@dataclass(frozen=True)
class TransitionRequest:
    target: str
    text: str | None = None
    merge_into: str | None = None


def allowed_targets(status: str, *, staff: bool = True) -> tuple[str, ...]:
    """Statuses reachable from ``status``; staff may not make the system-only moves."""
    return tuple(
        t for t in TRANSITIONS.get(status, ()) if not (staff and (status, t) in SYSTEM_ONLY)
    )


def check_transition(status: str, request: TransitionRequest, *, staff: bool = True) -> None:
    """Raise IllegalTransitionError (409) or ValidationError (400) unless the move is legal."""
    if request.target not in TRANSITIONS:
        raise ValidationError(
            f"Unknown status {request.target!r}.",
            {"status": f"must be one of {', '.join(TRANSITIONS)}"},
        )
    allowed = allowed_targets(status, staff=staff)
    if request.target not in allowed:
        options = ", ".join(allowed) if allowed else "none (this status is final)"
        raise IllegalTransitionError(
            f"A ticket that is {status} cannot become {request.target}. Allowed: {options}."
        )
    label = TEXT_REQUIRED.get(request.target)
    if label is not None and not (request.text or "").strip():
        raise ValidationError(
            f"Moving a ticket to {request.target} needs a public {label}.",
            {"text": f"a public {label} is required"},
        )
    if request.text is not None and len(request.text) > TEXT_MAX:
        raise ValidationError(
            f"The text must be at most {TEXT_MAX} characters.",
            {"text": f"must be at most {TEXT_MAX} characters"},
        )
    if request.target == "merged" and not request.merge_into:
        raise ValidationError(
            "Merging needs the number of the surviving ticket.",
            {"merge_into": "the surviving ticket's number is required"},
        )
