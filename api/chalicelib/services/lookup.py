"""Use case: anyone looks up a ticket by number; the submitter adds the key to see the timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain import numbers
from chalicelib.domain.tickets import Ticket
from chalicelib.errors import ForbiddenError, InvalidNumberError, NotFoundError, ValidationError
from chalicelib.i18n.message import Message
from chalicelib.services.views import status_view
from chalicelib.store.port import TicketStore, TicketView

KEY_MAX = 64


class InvalidKeyError(ForbiddenError):
    code = "invalid_key"


def parse_ticket_number(text: str, prefix: str) -> str:
    """The canonical number, or InvalidNumberError (a 400, so typos are told apart from 404s)."""
    try:
        return numbers.parse_number(text, prefix)
    except numbers.InvalidNumberError:
        raise InvalidNumberError(
            Message("error.invalid_number"),
            {"number": Message("field.number")},
        ) from None


class LookupService:
    def __init__(
        self,
        store: TicketStore,
        number_prefix: str,
        attachment_links: Callable[[Ticket], list[dict[str, Any]]] | None = None,
    ) -> None:
        """``attachment_links`` lists a ticket's photos with short-lived links (shown with the
        key only)."""
        self._store = store
        self._prefix = number_prefix
        self._attachment_links = attachment_links

    def load(self, number_text: str, key: str | None) -> TicketView:
        """The ticket, after checking the key when one is given."""
        number = parse_ticket_number(number_text, self._prefix)
        if key is not None and (not key.strip() or len(key) > KEY_MAX):
            raise ValidationError(
                Message("ticket.key_malformed"),
                {"X-Ticket-Key": Message("field.key_length", max=KEY_MAX)},
            )
        view = self._store.get_ticket(number)
        if view is None:
            raise NotFoundError(Message("ticket.not_found", number=number))
        if key is not None and not numbers.key_matches(key, view.ticket.key_hash):
            raise InvalidKeyError(Message("error.invalid_key"))
        return view

    def status(self, number_text: str, key: str | None, language: str = "en") -> dict[str, Any]:
        """The public status view; with a valid key, the public timeline too (the system's own
        texts in ``language``)."""
        view = self.load(number_text, key)
        body = status_view(view.ticket, view.events if key is not None else None, language)
        if key is not None and self._attachment_links is not None:
            body["attachments"] = self._attachment_links(view.ticket)
        return body
