"""Every (from, to) pair of statuses against the SPEC's diagram, written out independently."""

import itertools

import pytest

from chalicelib.domain import lifecycle
from chalicelib.domain.lifecycle import IllegalTransitionError, TransitionRequest
from chalicelib.domain.tickets import STATUSES
from chalicelib.errors import ValidationError

# SPEC §2 drawing, plus the two documented additions (acknowledged -> rejected/merged;
# awaiting_info -> in_progress). resolved -> reopened is the submitter's (a rating), not staff's.
LEGAL_FOR_STAFF = {
    ("received", "acknowledged"),
    ("received", "rejected"),
    ("received", "merged"),
    ("acknowledged", "in_progress"),
    ("acknowledged", "awaiting_info"),
    ("acknowledged", "rejected"),
    ("acknowledged", "merged"),
    ("awaiting_info", "acknowledged"),
    ("awaiting_info", "in_progress"),
    ("in_progress", "resolved"),
    ("in_progress", "awaiting_info"),
    ("resolved", "closed"),
    ("reopened", "in_progress"),
}
LEGAL_FOR_SYSTEM = LEGAL_FOR_STAFF | {("resolved", "reopened")}


def request_for(target: str) -> TransitionRequest:
    return TransitionRequest(target, text="why", merge_into="FB-00000-00000")


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_pair(source: str, target: str) -> None:
    for staff, legal in ((True, LEGAL_FOR_STAFF), (False, LEGAL_FOR_SYSTEM)):
        if (source, target) in legal:
            lifecycle.check_transition(source, request_for(target), staff=staff)
        else:
            with pytest.raises(IllegalTransitionError) as info:
                lifecycle.check_transition(source, request_for(target), staff=staff)
            allowed = lifecycle.allowed_targets(source, staff=staff)
            for name in allowed:
                assert name in info.value.message  # the message names the allowed moves
            if not allowed:
                assert "final" in info.value.message


@pytest.mark.parametrize(
    ("source", "target", "missing"),
    [
        ("received", "rejected", "text"),
        ("in_progress", "resolved", "text"),
        ("acknowledged", "awaiting_info", "text"),
        ("received", "merged", "merge_into"),
    ],
)
def test_required_texts(source: str, target: str, missing: str) -> None:
    with pytest.raises(ValidationError) as info:
        lifecycle.check_transition(source, TransitionRequest(target, text=None, merge_into=None))
    assert missing in info.value.fields


def test_unknown_status_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        lifecycle.check_transition("received", TransitionRequest("done"))
