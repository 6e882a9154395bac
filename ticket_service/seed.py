"""Development data of the ticket service."""

from __future__ import annotations

import uuid

from ticket_service.seed_data import ENTERPRISES

_NAMESPACE = uuid.UUID("6f1f4f3e-9658-4080-8965-808000000000")


def enterprise_id_for(credit_code: str) -> str:
    """Demo enterprises get ids derived from their credit code, stable across re-seeding."""
    return str(uuid.uuid5(_NAMESPACE, credit_code))


def demo_enterprise_ids() -> dict[str, str]:
    return {enterprise.key: enterprise_id_for(enterprise.credit_code) for enterprise in ENTERPRISES}
