"""Every process the launcher starts, and where each service keeps its settings and seed.

The HTTP services are listed in the order their seeds must run: the gateway's demo accounts
name the catalogue's departments and the ticket service's enterprises, so it comes last.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog_service.seed import seed as seed_catalog
from catalog_service.settings import CatalogSettings
from gateway.seed import seed as seed_gateway
from gateway.settings import GatewaySettings
from notification_service.settings import NotificationSettings
from services.seeding import Seed
from services.settings import ServiceSettings
from ticket_service.seed import seed as seed_tickets
from ticket_service.settings import TicketSettings


@dataclass(frozen=True, slots=True)
class HttpService:
    name: str
    # uvicorn serves this module's `create_app` factory
    app_module: str
    # its `port` is where the service listens
    settings_class: type[ServiceSettings]
    # the shared setting through which the other processes find it
    url_variable: str
    seed: Seed | None = None


@dataclass(frozen=True, slots=True)
class Worker:
    name: str
    # run as `python -m <module>`
    module: str
    # the setting that names the port of its /metrics, and the port the launcher gives it
    metrics_port_variable: str
    metrics_port: int


HTTP_SERVICES: tuple[HttpService, ...] = (
    HttpService("catalog", "catalog_service.app", CatalogSettings, "CATALOG_URL", seed_catalog),
    HttpService("tickets", "ticket_service.app", TicketSettings, "TICKET_URL", seed_tickets),
    HttpService("notifications", "notification_service.app", NotificationSettings, "NOTIFICATION_URL"),
    HttpService("gateway", "gateway.app", GatewaySettings, "GATEWAY_URL", seed_gateway),
)

WORKERS: tuple[Worker, ...] = (
    Worker("sla_worker", "sla_worker", "SLA_METRICS_PORT", 8008),
    Worker("notification_worker", "notification_service.worker", "NOTIFICATION_WORKER_METRICS_PORT", 8009),
)

# The only public entry: `run` waits for its /health and prints its /docs.
PUBLIC_ENTRY = "gateway"
