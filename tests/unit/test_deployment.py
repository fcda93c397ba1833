"""The container image and deploy/compose.yaml, checked without a container engine (this
machine has none): the Dockerfile's pins and user, the lock against pyproject.toml, the image's
health check, and compose against the Compose specification and the services' own topology."""
import configparser
import http.server
import re
import socket
import threading
import tomllib
from importlib import metadata

import jsonschema
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from services import healthcheck
from services.deployment import SERVICES
from shared.settings import Settings
from tests.deployment import DEPLOY, ROOT, SCHEMAS, setting_names, yaml_documents

DOCKERFILE = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
PINNED_IMAGE = re.compile(r"^[\w./-]+:v?\d+(\.\d+)+[\w.-]*@sha256:[0-9a-f]{64}$")


def instructions(name: str) -> list[str]:
    """The arguments of each `name` instruction of the Dockerfile (continuation lines joined)."""
    text = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.split(None, 1)[:1] == [name]]


def test_the_base_image_is_pinned_by_exact_version_and_digest():
    bases = [argument.split()[0] for argument in instructions("FROM")]
    assert bases and all(PINNED_IMAGE.match(base) for base in bases), bases


def test_the_image_runs_as_a_numeric_user_that_is_not_root():
    users = instructions("USER")
    assert users, "no USER: the services would run as root"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, users[-1]


def test_the_image_health_check_asks_the_service_for_healthz():
    [check] = instructions("HEALTHCHECK")
    assert '"services.healthcheck"' in check
    settings = Settings(host="0.0.0.0")
    assert healthcheck.health_url(settings, "matching") == f"http://127.0.0.1:{settings.matching_port}/healthz"


def locked() -> dict[str, str]:
    lines = (DEPLOY / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pins = [line for line in lines if line.strip() and not line.startswith("#")]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", pin) for pin in pins), "a lock line is not name==version"
    return {canonicalize_name(name): version for name, version in (pin.split("==") for pin in pins)}


def runtime_requirements() -> list[Requirement]:
    """pyproject.toml's runtime dependencies, and what each extra they name adds (psycopg[binary] …)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = [Requirement(text) for text in project["dependencies"]]
    return direct + [dependency for requirement in direct for dependency in extras_of(requirement)]


def extras_of(requirement: Requirement) -> list[Requirement]:
    dependencies = [Requirement(text) for text in metadata.requires(requirement.name) or ()]
    return [dependency for dependency in dependencies for extra in requirement.extras
            if "extra" in str(dependency.marker) and dependency.marker.evaluate({"extra": extra})]


def test_the_lock_pins_every_runtime_dependency_at_the_version_pyproject_names():
    lock = locked()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{requirement.name} is not in deploy/requirements.lock (deploy/refresh-lock.sh)"
        assert requirement.specifier.contains(lock[name], prereleases=True), \
            f"{requirement.name}: pyproject.toml says {requirement.specifier}, the lock {lock[name]}"


def test_the_lock_holds_no_test_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    tests_only = {canonicalize_name(Requirement(text).name) for text in project["optional-dependencies"]["test"]}
    assert not tests_only & set(locked())


@pytest.mark.parametrize("command, service", [
    (["python", "-m", "services.intake"], "intake"),
    (["/usr/local/bin/python", "-u", "-m", "services.reporting", ""], "reporting"),
    (["python", "-m", "services", "migrate"], None),
    (["python", "-m", "services.supervisor"], None),
    (["sh", "-c", "python -m services.notify"], None),
])
def test_the_health_check_reads_the_service_from_the_container_command(command, service):
    assert healthcheck.service_of(command) == service


class _Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_health_check_passes_when_the_service_answers_and_fails_when_it_does_not(monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("NOTIFY_PORT", str(server.server_address[1]))
        assert healthcheck.main(["notify"]) == 0
    finally:
        server.shutdown()
        server.server_close()
    with socket.socket() as closed:  # a port nothing listens on any more
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("NOTIFY_PORT", str(closed.getsockname()[1]))
    assert healthcheck.main(["notify"]) == 1
    assert healthcheck.main(["migrate"]) == 1


# --- deploy/compose.yaml ---

COMPOSE = yaml_documents(DEPLOY / "compose.yaml")[0]
APP_SERVICES = {name: spec for name, spec in COMPOSE["services"].items() if spec.get("image") == COMPOSE["x-image"]["image"]}


def test_compose_follows_the_compose_specification():
    import json
    schema = json.loads((SCHEMAS / "compose-spec" / "compose-spec.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(COMPOSE)


def test_compose_fails_the_specification_on_a_mistake():
    import json
    schema = json.loads((SCHEMAS / "compose-spec" / "compose-spec.json").read_text(encoding="utf-8"))
    wrong = {**COMPOSE, "services": {**COMPOSE["services"], "intake": {**COMPOSE["services"]["intake"], "replica": 2}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(schema)(schema).validate(wrong)


def rabbitmq_conf() -> dict[str, str]:
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.read_string("[rabbit]\n" + (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8"))
    return dict(parser["rabbit"])


def test_compose_runs_three_rabbitmq_nodes_that_form_one_cluster():
    nodes = {name: spec for name, spec in COMPOSE["services"].items() if name.startswith("rabbitmq-")}
    assert len(nodes) == 3
    conf = rabbitmq_conf()
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    listed = {value for key, value in conf.items() if key.startswith("cluster_formation.classic_config.nodes.")}
    assert listed == {f"rabbit@{spec['hostname']}" for spec in nodes.values()}
    assert conf["default_queue_type"] == "quorum"
    for spec in nodes.values():
        assert PINNED_IMAGE.match(spec["image"])
        assert spec["secrets"] == ["erlang-cookie"] and "/run/secrets/erlang-cookie" in " ".join(spec["entrypoint"])
        assert "rabbitmq" in spec["networks"]["default"]["aliases"]  # the one name the services use
    plugins = (DEPLOY / "rabbitmq" / "enabled_plugins").read_text(encoding="utf-8")
    assert "rabbitmq_management" in plugins and "rabbitmq_prometheus" in plugins


@pytest.mark.parametrize("definition", SERVICES, ids=lambda definition: definition.name)
def test_compose_runs_two_replicas_of_each_service_after_the_migrations(definition):
    spec = COMPOSE["services"][definition.name]
    assert spec["command"] == ["python", "-m", f"services.{definition.name}"]
    assert spec["deploy"]["replicas"] == 2
    assert spec["ports"] == [str(Settings().port_of(definition.name))]
    assert spec["depends_on"] == {"migrate": {"condition": "service_completed_successfully"},
                                  "broker-users": {"condition": "service_completed_successfully"}}
    assert spec["environment"]["RABBITMQ_URL"] == "amqp://rabbitmq:5672/"
    own = definition.name.upper()
    assert {f"{own}_RABBITMQ_PASSWORD", f"{own}_DATABASE_PASSWORD"} <= set(spec["environment"])
    others = {f"{other.name.upper()}_{what}" for other in SERVICES if other is not definition
              for what in ("RABBITMQ_PASSWORD", "DATABASE_PASSWORD")}
    assert not others & set(spec["environment"]), "a service is given another's password"


def test_compose_gives_linli_only_settings_it_reads():
    names = setting_names()
    for name, spec in APP_SERVICES.items():
        unknown = set(spec.get("environment", {})) - names
        assert not unknown, f"{name}: {unknown} are not settings (shared/settings.py)"


def test_compose_runs_the_migrations_and_the_broker_users_once():
    assert COMPOSE["services"]["migrate"]["command"] == ["python", "-m", "services", "migrate"]
    assert COMPOSE["services"]["broker-users"]["command"] == ["python", "-m", "services", "broker-users"]
    assert {COMPOSE["services"][name]["restart"] for name in ("migrate", "broker-users")} == {"no"}


def test_compose_mounts_the_monitoring_configuration():
    prometheus = {volume.split(":")[0] for volume in COMPOSE["services"]["prometheus"]["volumes"]}
    grafana = {volume.split(":")[0] for volume in COMPOSE["services"]["grafana"]["volumes"]}
    assert {"./monitoring/prometheus/prometheus.compose.yml", "./monitoring/prometheus/rules"} <= prometheus
    assert {"./monitoring/grafana/provisioning", "./monitoring/grafana/dashboards"} <= grafana
    # the ops token where prometheus.compose.yml reads it (relative to /etc/prometheus/prometheus.yml)
    assert {"source": "prometheus-ops-token", "target": "/etc/prometheus/secrets/ops.token"} in \
        COMPOSE["services"]["prometheus"]["secrets"]
    for name in ("postgres", "prometheus", "grafana"):
        assert PINNED_IMAGE.match(COMPOSE["services"][name]["image"]), name
