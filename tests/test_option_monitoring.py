"""The include_monitoring option: /metrics, Prometheus and Grafana files, and no trace when off."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import checks
from tests.conftest import render
from tests.test_render import project_files

MONITORING_FILES = [
    "compose.monitoring.yml",
    "monitoring/prometheus.yml",
    "monitoring/grafana/provisioning/datasources/prometheus.yml",
    "monitoring/grafana/provisioning/dashboards/dashboards.yml",
    "monitoring/grafana/dashboards/my-service.json",
    "docs/monitoring.md",
    "my_service/metrics.py",
    "my_service/middlewares/metrics.py",
    "my_service/api/http/metrics.py",
    "tests/test_metrics.py",
]
TRACES = re.compile(r"prometheus|grafana|metrics", re.IGNORECASE)


def validate_compose(path: Path) -> None:
    result = checks.schema_check(path, "vendor.compose-spec")
    if result.returncode != 0:
        pytest.fail(f"{path.name} is not valid Compose:\n{result.stdout}\n{result.stderr}")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def scrape_targets(project: Path) -> list[str]:
    config = load_yaml(project / "monitoring" / "prometheus.yml")
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "my-service"
    assert job["metrics_path"] == "/metrics"
    return [target for group in job["static_configs"] for target in group["targets"]]


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("monitoring") / "project", include_monitoring=True)


def test_every_monitoring_file_is_rendered(monitored: Path) -> None:
    missing = [name for name in MONITORING_FILES if not (monitored / name).is_file()]
    assert missing == []


def test_compose_file_is_valid_and_pins_its_images(monitored: Path) -> None:
    compose_file = monitored / "compose.monitoring.yml"
    validate_compose(compose_file)
    services = load_yaml(compose_file)["services"]
    assert set(services) == {"prometheus", "grafana"}
    for service in services.values():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", image), image
        assert all(port.startswith("127.0.0.1:") for port in service["ports"])


def test_schema_validation_catches_a_broken_compose_file(monitored: Path, tmp_path: Path) -> None:
    broken = tmp_path / "compose.broken.yml"
    text = (monitored / "compose.monitoring.yml").read_text(encoding="utf-8")
    broken.write_text(text.replace("    volumes:", "    volume_mounts:", 1), encoding="utf-8")
    with pytest.raises(pytest.fail.Exception):
        validate_compose(broken)


def test_compose_mounts_exist_in_the_project(monitored: Path) -> None:
    services = load_yaml(monitored / "compose.monitoring.yml")["services"]
    sources = [
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert len(sources) == 3
    assert [source for source in sources if not (monitored / source).exists()] == []


def test_grafana_provisioning_matches_the_compose_mounts(monitored: Path) -> None:
    grafana = load_yaml(monitored / "compose.monitoring.yml")["services"]["grafana"]
    mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"] if volume.startswith("./"))
    provisioning = monitored / "monitoring" / "grafana" / "provisioning"
    (provider,) = load_yaml(provisioning / "dashboards" / "dashboards.yml")["providers"]
    assert mounts["./monitoring/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./monitoring/grafana/provisioning"] == "/etc/grafana/provisioning"
    (datasource,) = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    dashboard_file = monitored / "monitoring" / "grafana" / "dashboards" / "my-service.json"
    dashboard = json.loads(dashboard_file.read_text(encoding="utf-8"))
    assert dashboard["title"] == "My Service"
    assert dashboard["uid"] == "my-service"
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert len(panels) >= 10
    for panel in panels:
        assert panel["datasource"]["uid"] == datasource["uid"]
        assert panel["targets"]
        assert all(target["expr"] for target in panel["targets"])


def test_dashboard_is_valid_json_for_any_project_name(tmp_path: Path) -> None:
    slug = "billing-core-service-whose-name-is-longer-than-forty"
    project = render(
        tmp_path / "project",
        include_monitoring=True,
        project_name="Billing & <Core> Service's",
        project_slug=slug,
    )
    dashboards = project / "monitoring" / "grafana" / "dashboards"
    dashboard = json.loads((dashboards / f"{slug}.json").read_text(encoding="utf-8"))
    assert dashboard["title"] == "Billing & <Core> Service's"
    assert len(dashboard["uid"]) <= 40


def test_prometheus_scrapes_the_compose_app_with_docker(monitored: Path) -> None:
    assert scrape_targets(monitored) == ["app:8000"]
    prometheus = load_yaml(monitored / "compose.monitoring.yml")["services"]["prometheus"]
    assert "extra_hosts" not in prometheus
    docs = (monitored / "docs" / "monitoring.md").read_text(encoding="utf-8")
    assert "docker compose -f compose.yml -f compose.monitoring.yml up" in docs


def test_prometheus_scrapes_the_host_without_docker(tmp_path: Path) -> None:
    project = render(tmp_path / "project", include_monitoring=True, include_docker=False)
    assert scrape_targets(project) == ["host.docker.internal:8000"]
    compose_file = project / "compose.monitoring.yml"
    validate_compose(compose_file)
    prometheus = load_yaml(compose_file)["services"]["prometheus"]
    assert prometheus["extra_hosts"] == ["host.docker.internal:host-gateway"]
    docs = (project / "docs" / "monitoring.md").read_text(encoding="utf-8")
    assert "docker compose -f compose.monitoring.yml up" in docs
    assert "compose.yml -f" not in docs


def test_monitoring_wiring_when_on(monitored: Path) -> None:
    pyproject = tomllib.loads((monitored / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(dep.startswith("prometheus-client") for dep in pyproject["project"]["dependencies"])
    settings = (monitored / "my_service" / "settings.py").read_text(encoding="utf-8")
    assert '["/health", "/metrics"]' in settings
    factory = (monitored / "my_service" / "factory.py").read_text(encoding="utf-8")
    # The metrics middleware is added after the rate limiter, so it is the outer one.
    assert factory.index("add_middleware(RateLimitMiddleware)") < factory.index(
        "add_middleware(MetricsMiddleware"
    )
    readme = (monitored / "README.md").read_text(encoding="utf-8")
    assert "docs/monitoring.md" in readme


@pytest.mark.parametrize("include_example", [True, False])
def test_no_trace_when_off(tmp_path: Path, include_example: bool) -> None:
    project = render(tmp_path / "project", include_example=include_example)
    files = project_files(project)
    mentions = [
        str(path.relative_to(project))
        for path in files
        if TRACES.search(path.read_text(encoding="utf-8")) or TRACES.search(path.name)
    ]
    assert mentions == []
    assert not (project / "monitoring").exists()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]
    assert not [dep for dep in requirements if "prometheus" in dep]
