"""DynamoDB side of staff members, their tokens and canned responses.

Each is one item under its own key (``STAFF#``, ``TOKEN#``, ``CANNED#``), listed through the
overloaded queue index (GSI2 partitions ``STAFFLIST``, ``TOKENS#<staff id>``, ``CANNEDLIST``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from chalicelib.domain.staff import CannedResponse, StaffMember, TokenRecord
from chalicelib.store import codec
from chalicelib.store.dynamodb import keys
from chalicelib.store.dynamodb.items import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class DynamoStaffMixin:
    """Staff, token and canned-response operations for ``DynamoTicketStore`` (which provides
    the client, the table name, the request counter, error mapping and ``_query_all``)."""

    table_name: str

    @property
    def client(self) -> DynamoDBClient:
        raise NotImplementedError

    def _count(self, *, requests: int = 0, items_read: int = 0) -> None:
        raise NotImplementedError

    def _driver_errors(self, operation: str) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _query_all(self, params: dict[str, Any], want: int | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _put_item(self, item: dict[str, Any]) -> None:
        with self._driver_errors("PutItem"):
            self._count(requests=1)
            self.client.put_item(TableName=self.table_name, Item=to_item(item))

    def _get_item(self, key: dict[str, str]) -> dict[str, Any] | None:
        with self._driver_errors("GetItem"):
            self._count(requests=1)
            response = self.client.get_item(
                TableName=self.table_name, Key=to_item(key), ConsistentRead=True
            )
        raw = response.get("Item")
        if raw is None:
            return None
        self._count(items_read=1)
        return from_item(raw)

    def _list_gsi2(self, partition: str) -> list[dict[str, Any]]:
        return self._query_all(
            {
                "IndexName": keys.QUEUE_INDEX,
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": keys.GSI2PK},
                "ExpressionAttributeValues": {":pk": {"S": partition}},
            }
        )

    def put_staff(self, member: StaffMember) -> None:
        self._put_item(
            {
                **keys.staff_key(member.id),
                **keys.staff_list_keys(member.id),
                "entity": "staff",
                **codec.staff_to_record(member),
            }
        )

    def get_staff(self, staff_id: str) -> StaffMember | None:
        item = self._get_item(keys.staff_key(staff_id))
        return None if item is None else codec.staff_from_record(item)

    def list_staff(self) -> list[StaffMember]:
        return [codec.staff_from_record(i) for i in self._list_gsi2(keys.STAFF_LIST_PK)]

    def put_token(self, token: TokenRecord) -> None:
        self._put_item(
            {
                **keys.token_key(token.token_hash),
                **keys.token_list_keys(token.staff_id, token.created_at, token.token_hash),
                "entity": "token",
                **codec.token_to_record(token),
            }
        )

    def get_token(self, token_hash: str) -> TokenRecord | None:
        item = self._get_item(keys.token_key(token_hash))
        return None if item is None else codec.token_from_record(item)

    def list_tokens(self, staff_id: str) -> list[TokenRecord]:
        return [codec.token_from_record(i) for i in self._list_gsi2(f"TOKENS#{staff_id}")]

    def put_canned(self, canned: CannedResponse) -> None:
        self._put_item(
            {
                **keys.canned_key(canned.id),
                **keys.canned_list_keys(canned.id),
                "entity": "canned",
                **codec.canned_to_record(canned),
            }
        )

    def list_canned(self) -> list[CannedResponse]:
        return [codec.canned_from_record(i) for i in self._list_gsi2(keys.CANNED_LIST_PK)]

    def delete_canned(self, canned_id: str) -> bool:
        with self._driver_errors("DeleteItem"):
            self._count(requests=1)
            response = self.client.delete_item(
                TableName=self.table_name,
                Key=to_item(keys.canned_key(canned_id)),
                ReturnValues="ALL_OLD",
            )
        return bool(response.get("Attributes"))
