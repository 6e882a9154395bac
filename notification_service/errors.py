"""Problems the notification service answers with."""

from __future__ import annotations

from services.errors import Conflict, NotFound, Unprocessable


class SubscriptionNotFound(NotFound):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"Webhook subscription {subscription_id!r} does not exist.", code="subscription_not_found")


class DeliveryNotFound(NotFound):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"Webhook delivery {delivery_id!r} does not exist.", code="delivery_not_found")


class InboxEntryNotFound(NotFound):
    def __init__(self, entry_id: str) -> None:
        super().__init__(f"Inbox entry {entry_id!r} does not exist.", code="inbox_entry_not_found")


class UrlNotAllowed(Unprocessable):
    """The endpoint resolves to an address the platform must not call (SSRF)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"The webhook URL {url!r} is not allowed: {reason}.",
            code="webhook_url_not_allowed",
            errors=[{"loc": ["body", "url"], "msg": reason, "type": "webhook_url_not_allowed"}],
        )


class SubscriptionStateConflict(Conflict):
    def __init__(self, subscription_id: str, status: str, action: str) -> None:
        super().__init__(
            f"Webhook subscription {subscription_id!r} is {status}; it cannot be {action}.",
            code="invalid_state",
            state=status,
            action=action,
        )


class DeliveryInFlight(Conflict):
    def __init__(self, delivery_id: str) -> None:
        super().__init__(
            f"Webhook delivery {delivery_id!r} is being sent right now; redeliver it once this attempt is logged.",
            code="delivery_in_flight",
        )
