"""Problems the notification service answers with."""

from __future__ import annotations

from typing import Any

from services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    StateProblem,
    Unprocessable,
    UpstreamUnavailable,
    meanings,
)

TICKETS_RETRY_AFTER_SECONDS = 30


class BadSignature(NotAuthenticated):
    codes = meanings(
        invalid_webhook_signature="The webhook's signature or timestamp does not verify; nothing was recorded."
    )

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The webhook's signature does not verify ({reason}); nothing was recorded.",
            code="invalid_webhook_signature",
            headers={},
        )


class InvalidWebhookBody(Unprocessable):
    codes = meanings(validation_failed="The signed webhook's body is not valid; `errors` lists each field.")

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("The webhook's body is not valid.", code="validation_failed", errors=errors)


class TicketsUnavailable(UpstreamUnavailable):
    """The ticket service is down or failing: the hotline retries the same call later."""

    codes = meanings(tickets_unavailable="The ticket service is unavailable; retry the same call later.")

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The ticket service is unavailable ({reason}); retry the same call later.",
            code="tickets_unavailable",
            headers={"Retry-After": str(TICKETS_RETRY_AFTER_SECONDS)},
        )


class SubscriptionNotFound(NotFound):
    codes = meanings(subscription_not_found="No webhook subscription has this id.")

    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"Webhook subscription {subscription_id!r} does not exist.", code="subscription_not_found")


class DeliveryNotFound(NotFound):
    codes = meanings(delivery_not_found="No webhook delivery has this id.")

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"Webhook delivery {delivery_id!r} does not exist.", code="delivery_not_found")


class InboxEntryNotFound(NotFound):
    codes = meanings(inbox_entry_not_found="No inbox entry with this id is addressed to the caller.")

    def __init__(self, entry_id: str) -> None:
        super().__init__(f"Inbox entry {entry_id!r} does not exist.", code="inbox_entry_not_found")


class UrlNotAllowed(Unprocessable):
    """The endpoint resolves to an address the platform must not call (SSRF)."""

    codes = meanings(webhook_url_not_allowed="The webhook URL resolves to an address the platform must not call.")

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"The webhook URL {url!r} is not allowed: {reason}.",
            code="webhook_url_not_allowed",
            errors=[{"loc": ["body", "url"], "msg": reason, "type": "webhook_url_not_allowed"}],
        )


class SubscriptionStateConflict(Conflict):
    codes = meanings(invalid_state="The resource's status does not allow this action; `state` and `action` say which.")
    fields = StateProblem

    def __init__(self, subscription_id: str, status: str, action: str) -> None:
        super().__init__(
            f"Webhook subscription {subscription_id!r} is {status}; it cannot be {action}.",
            code="invalid_state",
            state=status,
            action=action,
        )


class DeliveryInFlight(Conflict):
    codes = meanings(
        delivery_in_flight="The delivery is being sent right now; redeliver it once this attempt is logged."
    )

    def __init__(self, delivery_id: str) -> None:
        super().__init__(
            f"Webhook delivery {delivery_id!r} is being sent right now; redeliver it once this attempt is logged.",
            code="delivery_in_flight",
        )
