"""The deployment files are valid: the Kubernetes manifests against the Kubernetes schemas
(kubernetes-validate, which ships them), compose.yaml against the compose specification's
schema (check-jsonschema's vendored copy); and they say what the platform needs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.settings import GatewaySettings
from launcher.registry import HTTP_SERVICES, WORKERS
from notification_service.settings import NotificationSettings
from services.settings import PROJECT_ROOT, SharedSettings
from sla_worker.settings import WorkerSettings
from ticket_service.settings import TicketSettings

DEPLOY = PROJECT_ROOT / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))
# The oldest Kubernetes release still in wide use, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
HTTP_NAMES = {service.name for service in HTTP_SERVICES}
SECRETS = ("JWT_SECRET", "INTERNAL_TOKEN", "HOTLINE_WEBHOOK_SECRET")
WORKER_COMMANDS = (["python", "-m", "sla_worker"], ["python", "-m", "notification_service.worker"])


def _documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def _resources() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in MANIFESTS:
        for document in _documents(path):
            yield path, document


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {document["metadata"]["name"]: document for _, document in _resources() if document["kind"] == kind}


def _setting_variables() -> set[str]:
    """Every environment variable some process's settings read."""
    names: set[str] = set()
    classes = [SharedSettings, WorkerSettings, GatewaySettings, NotificationSettings, TicketSettings]
    classes += [service.settings_class for service in HTTP_SERVICES]
    for settings_class in classes:
        prefix = settings_class.model_config.get("env_prefix", "")
        for name, field in settings_class.model_fields.items():
            choices = getattr(field.validation_alias, "choices", None)
            if choices:
                names.update(str(choice) for choice in choices)
            else:
                names.add(f"{prefix}{name}".upper())
    return names


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=[path.name for path in MANIFESTS])
def test_each_manifest_is_valid_kubernetes(path: Path, version: str) -> None:
    documents = _documents(path)
    assert documents, path
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_a_broken_manifest_is_refused() -> None:
    deployment = _of_kind("Deployment")["gateway"]
    wrong_type = yaml.safe_load(yaml.safe_dump(deployment))
    wrong_type["spec"]["replicas"] = "two"
    unknown_field = yaml.safe_load(yaml.safe_dump(deployment))
    unknown_field["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    for broken in (wrong_type, unknown_field):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_compose_file_follows_the_compose_specification() -> None:
    checked = _check_compose(DEPLOY / "compose.yaml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    ("service", "key", "value"),
    [("catalog", "restart_policy", "always"), ("gateway", "depends_on", 42), ("tickets", "ports", "8002")],
)
def test_a_broken_compose_file_is_refused(tmp_path: Path, service: str, key: str, value: object) -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    compose["services"][service][key] = value
    broken = tmp_path / "compose.yaml"
    broken.write_text(yaml.safe_dump(compose))
    checked = _check_compose(broken)
    assert checked.returncode != 0
    assert f"services.{service}" in checked.stdout, checked.stdout + checked.stderr


def test_every_http_deployment_is_probed_limited_served_and_scaled() -> None:
    deployments, services, autoscalers = (
        _of_kind("Deployment"),
        _of_kind("Service"),
        _of_kind("HorizontalPodAutoscaler"),
    )
    assert set(deployments) >= HTTP_NAMES
    assert set(autoscalers) == set(services) == HTTP_NAMES
    for name in HTTP_NAMES:
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", name
        assert set(container["resources"]) == {"requests", "limits"}, name
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name
        assert autoscalers[name]["spec"]["scaleTargetRef"]["name"] == name
        assert autoscalers[name]["spec"]["minReplicas"] >= 2


def test_each_process_runs_the_command_the_registry_names() -> None:
    deployments = _of_kind("Deployment")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    for service in HTTP_SERVICES:
        target = f"{service.app_module}:create_app"
        (container,) = deployments[service.name]["spec"]["template"]["spec"]["containers"]
        for command in (container["command"], compose[service.name]["command"]):
            assert command[:4] == ["uvicorn", target, "--factory", "--host"], service.name
    commands = [container["command"] for deployment in deployments.values() for container in _containers(deployment)]
    for worker in WORKER_COMMANDS:
        assert worker in commands
        assert worker in [entry["command"] for entry in compose.values() if "command" in entry]
    (job,) = _of_kind("Job").values()
    assert _containers(job)[0]["command"] == ["python", "-m", "launcher", "migrate"]
    assert compose["migrate"]["command"] == ["python", "-m", "launcher", "migrate"]


def _containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(workload["spec"]["template"]["spec"]["containers"])


def test_compose_runs_two_of_everything_after_the_migration_with_secrets_from_the_environment() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    for name, entry in services.items():
        if name in ("postgres", "redis", "migrate"):
            continue
        assert entry["deploy"]["replicas"] == 2, name
        assert entry["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
        environment = entry["environment"]
        assert environment["ENVIRONMENT"] == "production"
        assert environment["CATALOG_URL"] == "http://catalog:8001"
        for secret in SECRETS:
            assert re.fullmatch(r"\$\{" + secret + r":\?[^}]*\}", environment[secret]), (name, secret)
        assert ":?" in environment["DATABASE_URL"], "the database password has no default either"
    assert HTTP_NAMES | {"sla-worker", "notification-worker", "postgres", "redis", "migrate"} == set(services)


def test_every_process_says_where_prometheus_scrapes_it_and_with_which_token() -> None:
    deployments = _of_kind("Deployment")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name in HTTP_NAMES:
        template = deployments[name]["spec"]["template"]
        (container,) = template["spec"]["containers"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/path"] == "/metrics", name
        assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"]), name
    for worker in WORKERS:
        name = worker.name.replace("_", "-")
        template = deployments[name]["spec"]["template"]
        (container,) = template["spec"]["containers"]
        assert {"name": "metrics", "containerPort": worker.metrics_port} in container["ports"], name
        assert {"name": worker.metrics_port_variable, "value": str(worker.metrics_port)} in container["env"], name
        assert template["metadata"]["annotations"]["prometheus.io/port"] == str(worker.metrics_port), name
        entry = compose["services"][name]
        assert entry["environment"][worker.metrics_port_variable] == str(worker.metrics_port), name
        assert entry["environment"]["ENVIRONMENT"] == "production", name
        assert str(worker.metrics_port) in entry["expose"], name
    (secret,) = _of_kind("Secret").values()
    assert "METRICS_TOKEN" in secret["stringData"]
    assert re.fullmatch(r"\$\{METRICS_TOKEN:\?[^}]*\}", compose["x-platform-environment"]["METRICS_TOKEN"])


def test_configuration_names_only_settings_that_exist() -> None:
    known = _setting_variables()
    (config,) = _of_kind("ConfigMap").values()
    (secret,) = _of_kind("Secret").values()
    assert set(config["data"]) <= known, set(config["data"]) - known
    assert set(secret["stringData"]) <= known, set(secret["stringData"]) - known
    assert set(SECRETS) | {"DATABASE_URL", "REDIS_URL"} <= set(secret["stringData"])
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    environment = set(compose["x-platform-environment"])
    assert environment <= known, environment - known


def test_the_image_holds_every_package_of_the_project() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    packages = re.search(r"include = \[(?P<names>[^\]]*)\]", pyproject)
    assert packages is not None
    for pattern in re.findall(r'"([a-z_]+)\*"', packages["names"]):
        assert f"COPY {pattern} ./{pattern}" in dockerfile, pattern
    assert "COPY pyproject.toml README.md alembic.ini ./" in dockerfile
