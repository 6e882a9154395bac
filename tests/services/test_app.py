"""What every service app shares: no route waits on the thread pool."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from catalog_service.app import create_app as create_catalog_app
from gateway.app import create_app as create_gateway_app
from gateway.settings import GatewaySettings
from notification_service.app import create_app as create_notification_app
from ticket_service.app import create_app as create_ticket_app
from ticket_service.settings import TicketSettings

APPS = {
    "gateway": create_gateway_app,
    "catalog": create_catalog_app,
    "tickets": create_ticket_app,
    "notifications": create_notification_app,
}


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # an included router
            yield from _routes(route.original_router.routes)


def _sync_dependencies(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        call = dependency.call
        function = call if inspect.isroutine(call) else type(call).__call__  # an instance: OAuth2PasswordBearer
        if call is not None and not (inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)):
            yield getattr(call, "__qualname__", repr(call))
        yield from _sync_dependencies(dependency)


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_endpoint_and_dependency_is_async(service: str) -> None:
    """A plain `def` endpoint or dependency runs in the thread pool: a thread hop per request,
    a measurable share of a fast request's CPU."""
    app: FastAPI = APPS[service]()
    routes = list(_routes(app.routes))
    assert len(routes) >= 2
    offenders = {
        route.path: sorted(set(_sync_dependencies(route.dependant)))
        for route in routes
        if not inspect.iscoroutinefunction(route.endpoint) or any(_sync_dependencies(route.dependant))
    }
    assert offenders == {}


@pytest.mark.parametrize("enabled", [False, True])
def test_fastapis_own_opentelemetry_follows_the_setting(enabled: bool) -> None:
    """Off by default: it looks up the global OTel providers on every request."""
    settings = TicketSettings(otel_enabled=enabled)
    for app in (create_ticket_app(settings), create_gateway_app(GatewaySettings(otel_enabled=enabled))):
        assert {app._telemetry[key] for key in ("tracing", "metrics", "logs")} == {enabled}
    assert TicketSettings().otel_enabled is False
