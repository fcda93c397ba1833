"""Every query of the Grafana board and of the alert rules names a metric that is really exported:
by the services (prometheus_client's registry once every module of theirs is imported, FastStream's
middleware included), by the broker (its Prometheus plugin's /metrics and /metrics/detailed, asked
for the families prometheus.yml asks for, in a vhost of this test's own with a queue in it), or by
Prometheus itself (`up`)."""
import importlib
import pkgutil
import urllib.request
from urllib.parse import quote, unquote, urlencode, urlsplit

import aio_pika
import pytest
import yaml
from prometheus_client import REGISTRY

import services
import shared
from tests.monitoring import CONFIGS, dashboard_queries, metric_names, rule_queries, series_names
from tests.servers import CONNECT_TIMEOUT, own_vhost

pytestmark = pytest.mark.integration

PROMETHEUS_MADE = {"up"}  # series Prometheus makes for every target
PLUGIN_PORT = 15692


def service_series() -> set[str]:
    """What the services' /metrics can show: every module imported, as a service process does."""
    for package in (shared, services):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not module.name.endswith("__main__"):
                importlib.import_module(module.name)
    return {name for family in REGISTRY.collect() for name in series_names(family.name, family.type)}


def detailed_params() -> dict:
    config = yaml.safe_load(CONFIGS[0].read_text())
    [job] = [job for job in config["scrape_configs"] if job["metrics_path"] == "/metrics/detailed"]
    return job["params"]


def scraped_families(host: str, path: str, params: dict) -> set[str]:
    url = f"http://{host}:{PLUGIN_PORT}{path}?{urlencode(params, doseq=True, quote_via=quote)}"
    with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT) as response:
        text = response.read().decode()
    return {name for line in text.splitlines() if line.startswith("# TYPE ")
            for name in series_names(*line.split()[2:4])}


@pytest.fixture(scope="module")
async def exported(servers) -> set[str]:
    with own_vhost(servers[1]) as url:
        async with await aio_pika.connect(url, timeout=CONNECT_TIMEOUT) as connection:
            channel = await connection.channel()
            await channel.declare_queue("matching.request-received", durable=True,
                                        arguments={"x-queue-type": "quorum"})
            host, vhost = urlsplit(url).hostname, unquote(urlsplit(url).path[1:])
            broker = scraped_families(host, "/metrics", {}) | scraped_families(
                host, "/metrics/detailed", {**detailed_params(), "vhost": [vhost]})
    return service_series() | broker | PROMETHEUS_MADE


def unknown(queries: dict[str, str], exported: set[str]) -> dict[str, set[str]]:
    return {where: missing for where, expr in queries.items() if (missing := metric_names(expr) - exported)}


def test_every_board_query_names_exported_metrics(exported):
    assert unknown(dashboard_queries(), exported) == {}


def test_every_alert_rule_names_exported_metrics(exported):
    assert unknown(rule_queries(), exported) == {}
