"""The launcher's registry: every process it starts, where each listens, how they find each other."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import pytest

from launcher.processes import process_specs, service_ports, service_urls
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


def test_with_replicas_every_process_runs_n_times_each_service_on_its_own_ports() -> None:
    specs = {spec.name: spec.argv for spec in process_specs("127.0.0.1", PORTS, replicas=2, port_step=10)}
    assert set(specs) == {
        *(f"{name}-{index}" for name in PORTS for index in (1, 2)),
        *(f"{worker.name}-{index}" for worker in WORKERS for index in (1, 2)),
    }
    ports = {name: int(argv[argv.index("--port") + 1]) for name, argv in specs.items() if "--port" in argv}
    assert ports["catalog-1"] == 18101 and ports["catalog-2"] == 18111
    assert ports["gateway-1"] == 18100 and ports["gateway-2"] == 18110
    assert len(set(ports.values())) == len(ports)


def test_with_replicas_every_process_is_told_where_all_of_them_are(monkeypatch: pytest.MonkeyPatch) -> None:
    urls = service_urls(PORTS, replicas=2, port_step=10)
    assert urls["CATALOG_URL"] == "http://127.0.0.1:18101"
    assert urls["CATALOG_URLS"] == "http://127.0.0.1:18101,http://127.0.0.1:18111"
    for variable, url in urls.items():
        monkeypatch.setenv(variable, url)
    settings = SharedSettings()
    assert settings.ticket_replicas == ["http://127.0.0.1:18102", "http://127.0.0.1:18112"]
    assert settings.notification_replicas == ["http://127.0.0.1:18103", "http://127.0.0.1:18113"]


def test_each_worker_replica_is_given_a_metrics_port_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = {spec.name: spec for spec in process_specs("127.0.0.1", PORTS, replicas=2, port_step=10)}
    assert specs["sla_worker-1"].environment({}) == {"SLA_METRICS_PORT": "8008"}
    assert specs["sla_worker-2"].environment({}) == {"SLA_METRICS_PORT": "8018"}
    assert specs["notification_worker-2"].environment({}) == {"NOTIFICATION_WORKER_METRICS_PORT": "8019"}
    http_ports = {int(spec.argv[spec.argv.index("--port") + 1]) for spec in specs.values() if "--port" in spec.argv}
    worker_ports = {int(port) for spec in specs.values() for port in spec.defaults.values()}
    assert not http_ports & worker_ports
    # An operator's own setting wins over the launcher's default.
    assert specs["sla_worker-1"].environment({"SLA_METRICS_PORT": "9100"})["SLA_METRICS_PORT"] == "9100"
    # Each variable is the one its worker reads; unset, a worker serves no metrics.
    monkeypatch.delenv("SLA_METRICS_PORT", raising=False)
    monkeypatch.delenv("NOTIFICATION_WORKER_METRICS_PORT", raising=False)
    assert WorkerSettings().metrics_port is None
    assert NotificationSettings().worker_metrics_port is None
    monkeypatch.setenv("SLA_METRICS_PORT", "8008")
    monkeypatch.setenv("NOTIFICATION_WORKER_METRICS_PORT", "8009")
    assert WorkerSettings().metrics_port == 8008
    assert NotificationSettings().worker_metrics_port == 8009
