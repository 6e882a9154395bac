"""The launcher's registry: every process it starts, where each listens, how they find each other."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

from launcher.processes import process_specs, service_ports, service_urls, worker_metrics_ports
from launcher.registry import HTTP_SERVICES, PUBLIC_ENTRY, WORKERS
from notification_service.settings import NotificationSettings
from services.settings import SharedSettings
from sla_worker.settings import WorkerSettings

PORTS = {"catalog": 18101, "tickets": 18102, "notifications": 18103, "gateway": 18100}


def test_the_registry_holds_every_process_of_the_design() -> None:
    assert [service.name for service in HTTP_SERVICES] == ["catalog", "tickets", "notifications", "gateway"]
    assert [worker.module for worker in WORKERS] == ["sla_worker", "notification_service.worker"]
    assert PUBLIC_ENTRY in {service.name for service in HTTP_SERVICES}


def test_each_http_service_is_served_by_uvicorn_from_its_app_factory() -> None:
    specs = {spec.name: spec.argv for spec in process_specs("0.0.0.0", PORTS)}
    assert set(specs) == {*PORTS, "sla_worker", "notification_worker"}
    for service in HTTP_SERVICES:
        argv = specs[service.name]
        assert argv[:4] == [sys.executable, "-m", "uvicorn", f"{service.app_module}:create_app"]
        assert "--factory" in argv
        assert argv[argv.index("--host") + 1] == "0.0.0.0"
        assert argv[argv.index("--port") + 1] == str(PORTS[service.name])
        assert callable(importlib.import_module(service.app_module).create_app)


def test_each_worker_runs_as_its_package() -> None:
    specs = {spec.name: spec.argv for spec in process_specs("127.0.0.1", PORTS)}
    for worker in WORKERS:
        assert specs[worker.name] == [sys.executable, "-m", worker.module]
        spec = importlib.util.find_spec(worker.module)
        assert spec is not None and spec.origin is not None
        runs = spec.submodule_search_locations is None or importlib.util.find_spec(f"{worker.module}.__main__")
        assert runs, f"python -m {worker.module} has nothing to run"


def test_ports_come_from_each_services_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("GATEWAY_PORT", "CATALOG_PORT", "TICKET_PORT", "NOTIFICATION_PORT"):
        monkeypatch.delenv(variable, raising=False)
    assert service_ports() == {"catalog": 8001, "tickets": 8002, "notifications": 8003, "gateway": 8000}
    monkeypatch.setenv("GATEWAY_PORT", "18000")
    monkeypatch.setenv("CATALOG_PORT", "18001")
    monkeypatch.setenv("TICKET_PORT", "18002")
    monkeypatch.setenv("NOTIFICATION_PORT", "18003")
    assert service_ports() == {"catalog": 18001, "tickets": 18002, "notifications": 18003, "gateway": 18000}


def test_every_process_finds_every_service_at_its_port(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = service_urls(PORTS)
    for variable, url in urls.items():
        monkeypatch.setenv(variable, url)
    settings = SharedSettings()
    found = {
        "catalog": settings.catalog_url,
        "tickets": settings.ticket_url,
        "notifications": settings.notification_url,
        "gateway": settings.gateway_url,
    }
    assert found == {name: f"http://127.0.0.1:{port}" for name, port in PORTS.items()}


def test_each_worker_is_given_a_metrics_port_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("GATEWAY_PORT", "CATALOG_PORT", "TICKET_PORT", "NOTIFICATION_PORT"):
        monkeypatch.delenv(variable, raising=False)
    ports = worker_metrics_ports()
    assert ports == {"SLA_METRICS_PORT": "8010", "NOTIFICATION_WORKER_METRICS_PORT": "8011"}
    assert not {str(port) for port in service_ports().values()} & set(ports.values())
    # Each variable is the one its worker reads; unset, a worker serves no metrics.
    assert WorkerSettings().metrics_port is None
    assert NotificationSettings().worker_metrics_port is None
    for variable, port in ports.items():
        monkeypatch.setenv(variable, port)
    assert WorkerSettings().metrics_port == 8010
    assert NotificationSettings().worker_metrics_port == 8011
