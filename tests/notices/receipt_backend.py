"""A channel backend that only reads delivery receipts: a JSON list of {"id", "delivered", "code"}."""

import json

from arrears.notices.channels import Backend, Receipt


class ReceiptBackend(Backend):
    name = "testrcpt"

    def send(self, message):  # pragma: no cover - receipts only
        raise NotImplementedError

    def parse_receipts(self, body, headers):
        rows = json.loads(body.decode())  # a JSONDecodeError is a ValueError
        if not isinstance(rows, list) or not all(isinstance(row, dict) and "id" in row for row in rows):
            raise ValueError("a list of receipts is expected")
        return [Receipt(provider=self.name, provider_message_id=str(row["id"]), delivered=bool(row.get("delivered")),
                        at=None, code=str(row.get("code", ""))) for row in rows]


class AcknowledgingBackend(ReceiptBackend):
    """Like the SMS providers that want their own answer to a push."""

    name = "ackrcpt"

    def receipt_ack(self):
        return "application/json", b'{"code": 0, "msg": "\\u6210\\u529f"}'
