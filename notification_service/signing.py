"""Standard Webhooks: secrets, signatures and the body a subscriber receives."""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# Keys whose values are personal data; masked for every subscriber (DESIGN §5).
PERSONAL_KEYS = frozenset({"caller_phone", "contact_phone", "phone", "contact_name", "caller_name", "id_number"})
# Mainland mobile numbers inside free text (a description the hotline agent typed, say).
MOBILE_NUMBER = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# What an event never carries out: the caller-specific view of the ticket.
DROPPED_KEYS = frozenset({"allowed_actions"})


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(secrets_in_force: Sequence[str], *, message_id: str, timestamp: datetime, body: str) -> str:
    """`v1,<sig>` per secret in force, space-separated (a receiver accepts any one)."""
    if timestamp.tzinfo is None:
        raise ValueError("sign with an aware instant")
    instant = timestamp.astimezone(UTC)
    return " ".join(_signer(secret).sign(message_id, instant, body) for secret in secrets_in_force)


@functools.lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    # Decoding the secret costs as much as the signature: a worker signs with few secrets, often.
    return Webhook(secret)


def webhook_headers(
    secrets_in_force: Sequence[str], *, message_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets_in_force, message_id=message_id, timestamp=timestamp, body=body),
    }


def _mask_text(text: str) -> str:
    return MOBILE_NUMBER.sub(lambda match: f"{match.group(1)}****{match.group(3)}", text)


def _mask_value(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    if len(digits) >= 7:
        return f"{''.join(digits[:3])}****{''.join(digits[-4:])}"
    return "*" * len(value)


def mask(node: Any) -> Any:
    """The data with personal values masked and caller-specific keys dropped."""
    if isinstance(node, dict):
        masked: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED_KEYS:
                continue
            if key in PERSONAL_KEYS and isinstance(value, str):
                masked[key] = _mask_value(value)
            else:
                masked[key] = mask(value)
        return masked
    if isinstance(node, list):
        return [mask(item) for item in node]
    if isinstance(node, str):
        return _mask_text(node)
    return node


def _resource_url(envelope: dict[str, Any], public_base_url: str) -> str | None:
    resource_id = envelope.get("data", {}).get("id")
    if not isinstance(resource_id, str) or not envelope["type"].startswith("ticket."):
        return None
    return f"{public_base_url.rstrip('/')}/api/v1/tickets/{resource_id}"


def payload_body(envelope: dict[str, Any], *, max_bytes: int, public_base_url: str) -> str:
    """The envelope, masked; a larger one than `max_bytes` is sent thin: its id, type, and the
    resource's id and URL, for the subscriber to fetch."""
    full = {**envelope, "data": mask(envelope.get("data", {}))}
    body = json.dumps(full, ensure_ascii=False, separators=(",", ":"))
    if len(body.encode()) <= max_bytes:
        return body
    data = envelope.get("data", {})
    thin: dict[str, Any] = {"id": data.get("id"), "url": _resource_url(envelope, public_base_url)}
    summary = {"id": envelope["id"], "type": envelope["type"], "occurred_at": envelope.get("occurred_at"), "data": thin}
    return json.dumps({**summary, "thin": True}, ensure_ascii=False, separators=(",", ":"))
