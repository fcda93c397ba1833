"""deploy/monitoring: promtool checks the Prometheus configurations and rules and runs each rule's
unit test; every rule has its test and says what to do; the Grafana board is valid and
provisioned. (That every query names an exported metric: tests/integration/test_monitoring_metrics.py.)"""
import shutil

import pytest
import yaml

from tests.monitoring import (CONFIGS, DASHBOARD, GRAFANA, PROMETHEUS, RULE_TESTS, RULES, alerts_tested, dashboard,
                              metric_names, panels, promtool, rules, series_names)


# Debian's promtool is built without Kubernetes discovery: it cannot read prometheus.kubernetes.yml,
# which is checked only for being prometheus.yml with other targets (below).
CHECKED_BY_PROMTOOL = [config for config in CONFIGS if "kubernetes" not in config.name]


def test_promtool_accepts_the_configurations(tmp_path):
    """As Prometheus would load them: with their rules and a token file (never committed) beside them."""
    copy = shutil.copytree(PROMETHEUS, tmp_path / "prometheus")
    (copy / "secrets").mkdir(exist_ok=True)
    (copy / "secrets" / "ops.token").write_text("a-token\n")
    for config in CHECKED_BY_PROMTOOL:
        assert "SUCCESS" in promtool("check", "config", config.name, cwd=copy)


def test_promtool_accepts_the_rules():
    assert "SUCCESS" in promtool("check", "rules", *(str(path) for path in RULES))


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda path: path.name)
def test_each_rules_unit_test_passes(test_file):
    assert "SUCCESS" in promtool("test", "rules", str(test_file.relative_to(PROMETHEUS)))


def test_every_rule_has_a_unit_test_of_its_own():
    alerts = [rule["alert"] for rule in rules()]
    tested = alerts_tested()
    assert len(alerts) == len(set(alerts)), "two rules share a name"
    assert {name: names for name, names in tested.items() if len(names) != 1} == {}, "one rule per test file"
    assert sorted(name for names in tested.values() for name in names) == sorted(alerts)


def test_every_rule_test_sees_it_fire_and_not_fire():
    for path in RULE_TESTS:
        cases = [case for test in yaml.safe_load(path.read_text())["tests"] for case in test["alert_rule_test"]]
        assert any(case["exp_alerts"] for case in cases), f"{path.name}: never expected to fire"
        assert any(not case["exp_alerts"] for case in cases), f"{path.name}: never expected to stay quiet"


def test_every_rule_says_what_it_means_and_what_to_do():
    for rule in rules():
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert {name for name, text in rule["annotations"].items() if text.strip()} >= {
            "summary", "description", "runbook"}, rule["alert"]


def test_the_compose_and_kubernetes_configurations_differ_only_in_their_targets():
    def without_targets(path):
        config = yaml.safe_load(path.read_text())
        for job in config["scrape_configs"]:
            for key in ("static_configs", "dns_sd_configs", "kubernetes_sd_configs", "relabel_configs"):
                job.pop(key, None)
        return config
    local, *others = (without_targets(path) for path in CONFIGS)
    assert others == [local] * len(others)


def test_the_board_is_valid_and_reads_the_provisioned_data_source():
    board = dashboard()
    [source] = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert board["uid"] and board["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels():
        assert panel["targets"] and all(target["expr"].strip() for target in panel["targets"]), panel["title"]
        assert {panel["datasource"]["uid"], *(t["datasource"]["uid"] for t in panel["targets"])} == {source["uid"]}
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24


def test_the_dashboard_provisioning_points_at_the_board():
    [provider] = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "linli.yml").read_text())["providers"]
    # compose and Kubernetes mount deploy/monitoring/grafana/dashboards at the provider's path
    assert provider["type"] == "file" and provider["options"]["path"].endswith("/" + DASHBOARD.parent.name)
    assert [path.name for path in DASHBOARD.parent.glob("*.json")] == [DASHBOARD.name]


@pytest.mark.parametrize("expr, names", [
    ('histogram_quantile(0.9, sum by (le, stage) (rate(linli_request_stage_seconds_bucket[1h])))',
     {"linli_request_stage_seconds_bucket"}),
    ("time() - max(linli_matching_clock_tick_timestamp_seconds)", {"linli_matching_clock_tick_timestamp_seconds"}),
    ('rabbitmq_detailed_queue_messages{queue=~"a\\\\.b|by"} > 0 and on (queue) rabbitmq_detailed_queue_consumers == 0',
     {"rabbitmq_detailed_queue_messages", "rabbitmq_detailed_queue_consumers"}),
    ("avg_over_time(x[10m]) - avg_over_time(x[10m] offset 1m) > 1", {"x"}),
    ('up{job="linli"} == 0', {"up"}),
])
def test_the_metric_names_of_an_expression(expr, names):
    assert metric_names(expr) == names


def test_the_series_of_a_metric_family():
    assert series_names("linli_outbox_published", "counter") == {"linli_outbox_published_total",
                                                                 "linli_outbox_published_created"}
    assert series_names("rabbitmq_detailed_queue_messages_published_total", "counter") == {
        "rabbitmq_detailed_queue_messages_published_total"}
    assert "linli_handler_duration_seconds_bucket" in series_names("linli_handler_duration_seconds", "histogram")
    assert series_names("linli_outbox_lag_seconds", "gauge") == {"linli_outbox_lag_seconds"}
