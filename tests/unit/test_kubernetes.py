"""deploy/kubernetes, checked without a cluster: every core manifest against the Kubernetes
schemas of a pinned version (kubernetes-validate, strict), every custom resource against its
published CRD (../shared/schemas/kubernetes-crds, the team folder; skipped, saying so, without it), and the manifests against what the services
declare: their queues, broker users, settings, probe paths and ports."""
import copy
import json
import re

import jsonschema
import kubernetes_validate
import pytest

from services.deployment import SERVICES
from services.intake.sources import load_sources
from shared.broker_users import OPS, SCALER, grants, user_of
from shared.service import create_app
from shared.settings import Settings
from tests.deployment import CRDS, KUBERNETES, setting_names, yaml_documents

# The oldest Kubernetes the manifests are for (a release still supported by its upstream).
KUBERNETES_VERSION = "1.33.0"
CUSTOM_GROUPS = ("keda.sh/", "rabbitmq.com/")
KUSTOMIZATION = yaml_documents(KUBERNETES / "kustomization.yaml")[0]
MANIFESTS = [(name, document) for name in KUSTOMIZATION["resources"]
             for document in yaml_documents(KUBERNETES / name)]


def of_kind(kind: str) -> dict[str, dict]:
    return {document["metadata"]["name"]: document for _, document in MANIFESTS if document["kind"] == kind}


def label(entry) -> str:
    name, document = entry
    return f"{name}:{document['kind']}/{document['metadata']['name']}"


CORE = [entry for entry in MANIFESTS if not entry[1]["apiVersion"].startswith(CUSTOM_GROUPS)]
CUSTOM = [entry for entry in MANIFESTS if entry[1]["apiVersion"].startswith(CUSTOM_GROUPS)]


def test_the_kustomization_lists_every_manifest():
    files = {path.name for path in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(KUSTOMIZATION["resources"]) == files
    assert {document["metadata"]["namespace"] for _, document in MANIFESTS if document["kind"] != "Namespace"} == \
        {KUSTOMIZATION["namespace"]}


@pytest.mark.parametrize("entry", CORE, ids=label)
def test_core_manifests_follow_the_kubernetes_schemas(entry):
    kubernetes_validate.validate(entry[1], KUBERNETES_VERSION, strict=True)


def test_the_kubernetes_validation_refuses_an_unknown_field():
    deployment = copy.deepcopy(of_kind("Deployment")["intake"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def strict(schema: dict) -> dict:
    """The CRD's schema as the API server's strict field validation applies it: an object with
    named properties takes no others (unless it says it keeps unknown fields)."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    return [strict(item) for item in schema] if isinstance(schema, list) else schema


def crd_schema(resource: dict) -> dict:
    if not CRDS.is_dir():
        pytest.skip(f"the published CRDs are not at {CRDS} (the team folder beside the checkout; "
                    "LINLI_CRDS_DIR names another place)")
    group, version = resource["apiVersion"].split("/")
    for path in CRDS.glob(f"{group}_*.yaml"):
        [crd] = yaml_documents(path)
        if crd["spec"]["names"]["kind"] == resource["kind"]:
            [served] = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
            return strict(served["schema"]["openAPIV3Schema"])
    raise AssertionError(f"no CRD for {resource['kind']} in {CRDS}")


@pytest.mark.parametrize("entry", CUSTOM, ids=label)
def test_custom_resources_follow_their_published_crds(entry):
    jsonschema.Draft7Validator(crd_schema(entry[1])).validate(entry[1])


def test_the_crd_validation_refuses_an_unknown_field():
    scaled = copy.deepcopy(of_kind("ScaledObject")["matching"])
    scaled["spec"]["minReplicas"] = 2
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(crd_schema(scaled)).validate(scaled)


def containers(document: dict) -> list[dict]:
    return document["spec"]["template"]["spec"]["containers"]


@pytest.mark.parametrize("definition", SERVICES, ids=lambda definition: definition.name)
def test_each_service_runs_twice_with_probes_on_its_own_paths_and_port(definition):
    name, port = definition.name, Settings().port_of(definition.name)
    deployment = of_kind("Deployment")[name]
    assert deployment["spec"]["replicas"] == 2
    [container] = containers(deployment)
    assert container["command"] == ["python", "-m", f"services.{name}"]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    probes = {probe: container[probe]["httpGet"] for probe in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/healthz" and probes["readinessProbe"]["path"] == "/readyz"
    paths = set(create_app(definition, Settings()).openapi()["paths"])
    assert {probe["path"] for probe in probes.values()} <= paths
    assert {probe["port"] for probe in probes.values()} == {"http"}
    assert of_kind("Service")[name]["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
    assert of_kind("PodDisruptionBudget")[name]["spec"]["minAvailable"] == 1
    assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"]


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_every_pod_runs_as_non_root_on_a_read_only_root(kind):
    for document in of_kind(kind).values():
        pod = document["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


@pytest.mark.parametrize("definition", SERVICES, ids=lambda definition: definition.name)
def test_keda_scales_each_service_on_exactly_the_queues_it_declares(definition):
    scaled = of_kind("ScaledObject")[definition.name]
    assert scaled["spec"]["scaleTargetRef"]["name"] == definition.name
    assert scaled["spec"]["minReplicaCount"] == 2
    triggers = scaled["spec"]["triggers"]
    queues = [trigger["metadata"]["queueName"] for trigger in triggers]
    assert sorted(queues) == sorted(definition.consumers.queue_names)
    assert {trigger["type"] for trigger in triggers} == {"rabbitmq"}
    assert {trigger["authenticationRef"]["name"] for trigger in triggers} <= set(of_kind("TriggerAuthentication"))


def secret(name: str) -> dict[str, str]:
    return of_kind("Secret")[name]["stringData"]


def test_the_settings_config_map_names_only_settings_and_they_parse(monkeypatch):
    data = of_kind("ConfigMap")["linli-settings"]["data"]
    assert not set(data) - setting_names()
    for key, value in data.items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # raises on a value the services could not read
    assert settings.database_migrate_on_start is False and settings.linli_development is False


@pytest.mark.parametrize("definition", SERVICES, ids=lambda definition: definition.name)
def test_each_service_reads_its_own_secret_of_settings(definition):
    own = definition.name.upper()
    [container] = containers(of_kind("Deployment")[definition.name])
    assert container["envFrom"] == [{"configMapRef": {"name": "linli-settings"}},
                                    {"secretRef": {"name": f"linli-{definition.name}"}}]
    keys = set(secret(f"linli-{definition.name}"))
    assert {f"{own}_RABBITMQ_PASSWORD", f"{own}_DATABASE_PASSWORD"} <= keys
    assert all(key.startswith(f"{own}_") for key in keys) and keys <= setting_names()


def sources_of_config_map(tmp_path) -> list:
    path = tmp_path / "sources.json"
    path.write_text(of_kind("ConfigMap")["linli-files"]["data"]["sources.json"], encoding="utf-8")
    return list(load_sources(str(path), False).known.values())


def test_the_broker_users_secret_has_every_user_that_is_not_a_service(tmp_path):
    users = {grant.user for grant in grants(SERVICES, sources_of_config_map(tmp_path))}
    services = {user_of(definition.name) for definition in SERVICES}
    passwords = json.loads(secret("linli-broker-users")["broker-users.json"])
    assert set(passwords) == users - services
    keda = secret("linli-keda-rabbitmq")  # KEDA reads the queue depths as linli-scaler, with its password
    assert keda["username"] == SCALER and keda["password"] == passwords[SCALER]


def env_names(container: dict) -> set[str]:
    return {variable["name"] for variable in container.get("env", [])}


def test_the_jobs_give_every_service_password_and_only_settings():
    jobs = of_kind("Job")
    secrets = of_kind("Secret")
    for job in jobs.values():
        for container in containers(job):
            expanded = set(re.findall(r"\$\((\w+)\)", " ".join(v.get("value", "") for v in container.get("env", []))))
            assert env_names(container) - expanded <= setting_names()  # the rest only build another's value
            for variable in container.get("env", []):
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference and reference["name"] in secrets:  # else the operator's own Secret
                    assert reference["key"] in secrets[reference["name"]]["stringData"]
    [migrate] = containers(jobs["linli-migrate"])
    [users] = containers(jobs["linli-broker-users"])
    for definition in SERVICES:
        assert f"{definition.name.upper()}_DATABASE_PASSWORD" in env_names(migrate)
        assert f"{definition.name.upper()}_RABBITMQ_PASSWORD" in env_names(users)
    assert migrate["command"] == ["python", "-m", "services", "migrate"]
    assert users["command"] == ["python", "-m", "services", "broker-users"]


def test_the_rabbitmq_cluster_has_three_nodes_with_prometheus_and_is_what_the_services_reach():
    [(name, cluster)] = of_kind("RabbitmqCluster").items()
    assert cluster["spec"]["replicas"] == 3
    assert "rabbitmq_prometheus" in cluster["spec"]["rabbitmq"]["additionalPlugins"]
    assert "default_queue_type = quorum" in cluster["spec"]["rabbitmq"]["additionalConfig"]
    url = of_kind("ConfigMap")["linli-settings"]["data"]["RABBITMQ_URL"]
    assert url == f"amqp://{name}.{cluster['metadata']['namespace']}.svc:5672/"
    assert secret("linli-keda-rabbitmq")["host"] == f"http://{name}.{cluster['metadata']['namespace']}.svc:15672/"


# What `make run` sets (the Makefile's exports) that Kubernetes gives in another form.
REPLACED = {"LINLI_TOKEN_JWKS_FILE": "LINLI_TOKEN_JWKS_URL",  # the city's single sign-on, not the development key
            "MATCHING_AREAS_FILE": "LINLI_AREAS_FILE"}  # the same setting, by its other name


def test_every_setting_make_run_exports_is_given_to_kubernetes_too():
    makefile = (KUBERNETES.parent.parent / "Makefile").read_text(encoding="utf-8")
    exported = set(re.findall(r"^export (\w+) \?=", makefile, flags=re.MULTILINE))
    given = set(of_kind("ConfigMap")["linli-settings"]["data"])
    given |= {key for document in of_kind("Secret").values() for key in document["stringData"]}
    given |= {name for job in of_kind("Job").values() for container in containers(job) for name in env_names(container)}
    assert exported, "no exports found in the Makefile"
    assert {REPLACED.get(name, name) for name in exported} <= given
