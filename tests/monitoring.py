"""What the monitoring tests read: deploy/monitoring's Prometheus configuration, alert rules and
their promtool tests, the Grafana board; promtool itself (scripts/ensure-promtool.sh); and the
names of the metrics a PromQL expression reads."""
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[1]
MONITORING = ROOT / "deploy" / "monitoring"
PROMETHEUS = MONITORING / "prometheus"
CONFIGS = tuple(PROMETHEUS / f"prometheus{variant}.yml" for variant in ("", ".compose", ".kubernetes"))
RULES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
GRAFANA = MONITORING / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "linli.json"
PROMTOOL = ROOT / ".tools" / "bin" / "promtool"
PROMTOOL_SECONDS = 60


def promtool(*args: str, cwd: Path = PROMETHEUS) -> str:
    """Run promtool; fail, saying how to get it, where it is missing, and with its output where it fails."""
    if not PROMTOOL.exists():
        pytest.fail(f"promtool is not at {PROMTOOL}: run `make promtool` (scripts/ensure-promtool.sh unpacks it "
                    "from Debian's prometheus package)")
    result = subprocess.run([str(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=PROMTOOL_SECONDS)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def rules() -> list[dict]:
    return [rule for path in RULES for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]


def alerts_tested() -> dict[str, set[str]]:
    """Each promtool test file's alerts, by file name."""
    return {path.name: {case["alertname"] for test in yaml.safe_load(path.read_text())["tests"]
                        for case in test.get("alert_rule_test", [])} for path in RULE_TESTS}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels() -> list[dict]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def dashboard_queries() -> dict[str, str]:
    """Every panel's queries: `panel title (refId)`: PromQL."""
    return {f"{panel['title']} ({target['refId']})": target["expr"]
            for panel in panels() for target in panel["targets"]}


def rule_queries() -> dict[str, str]:
    return {rule["alert"]: rule["expr"] for rule in rules()}


# Words of PromQL that are not metric names (functions and aggregations are told by their "(").
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless",
            "inf", "nan"}
SERIES_OF = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
             "summary": ("", "_sum", "_count", "_created")}


def metric_names(expr: str) -> set[str]:
    """The series names an expression reads: strings, label matchers, ranges, grouping labels and
    offsets removed, then every name that is not a function, an aggregation or a keyword."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\w+", " ", text)
    names = re.findall(r"(?<![\w.])([a-zA-Z_:][\w:]*)\b(?!\s*\()", text)
    return {name for name in names if name not in KEYWORDS}


def series_names(name: str, kind: str) -> set[str]:
    """The series a metric family exports: a counter `x` as x_total, a histogram as x_bucket, x_sum
    and x_count (a family already named `x_total`, as the broker names its counters, stays)."""
    suffixes = SERIES_OF.get(kind, ("",))
    if kind == "counter" and name.endswith("_total"):
        return {name}
    return {name + suffix for suffix in suffixes}
