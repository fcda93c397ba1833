"""The figures computed from facts rather than added up, and the figures' names and order."""
import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping, Sequence

from services.reporting.domain.sketches import Histogram
from shared.events import RequestReceived

# Every figure a report row may carry, in the order tables show them, with the dashboard's label.
FIGURES: dict[str, str] = {
    "received": "受理需求", "assigned": "已派单", "escalated": "上报社区", "completed": "已完成",
    "rejected": "退回", "missed": "超时未服务", "cancelled": "已撤回",
    "sessions": "服务场次", "person_times": "服务人次", "service_hours": "服务时长(小时)",
    "staff_handled": "工作人员办结", "staff_handled_hours": "工作人员服务时长(小时)",
    "participations": "志愿者参与人次", "active_volunteers": "参与志愿者(人)", "volunteer_hours": "志愿服务时长(小时)",
    "case_files": "服务对象建档", "households_visited": "入户走访(户)", "households_registered": "重点户建档(户)",
    "disputes_received": "受理纠纷", "disputes_agreed": "调解成功", "disputes_escalated": "纠纷上报",
    "return_visits": "回访", "return_visits_satisfied": "回访满意", "return_visits_basically_satisfied": "回访基本满意",
    "return_visits_dissatisfied": "回访不满意", "satisfaction_share": "回访满意率", "staff_actions": "工作人员操作",
    "median_minutes_to_assign": "派单用时中位数(分钟)", "p90_minutes_to_assign": "派单用时P90(分钟)",
    "median_minutes_to_complete": "完成用时中位数(分钟)", "p90_minutes_to_complete": "完成用时P90(分钟)",
    "within_window_share": "按时服务率", "registered_volunteers": "注册志愿者",
    "residents": "居民数", "volunteer_share_of_residents": "志愿者占居民比例",
}


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The value below which `fraction` of `values` lie, interpolated between the two nearest
    ranks (PostgreSQL's percentile_cont); None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def share(part: float | None, whole: float | None) -> float | None:
    """part / whole, rounded to 4 places; None when the whole is unknown or zero."""
    return round(part / whole, 4) if part is not None and whole else None


def beneficiary_key(request: RequestReceived, secret: bytes) -> str | None:
    """Who a request serves, as one case file (档案): the beneficiary's phone, else their name
    within the community; None when neither is given (the request is then its own file).
    Kept as an HMAC under reporting's own key (REPORTING_PERSON_KEY): reporting needs to tell
    people apart, not to know them, and without the key no one can try every phone number."""
    person = request.beneficiary
    if person is None or not (person.phone or person.name):
        return None
    key = f"phone:{person.phone}" if person.phone else f"name:{request.community_code}:{person.name}"
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def minutes(seconds: Sequence[float] | Histogram, fraction: float) -> float | None:
    """A percentile of durations in minutes: exact from the seconds, or estimated from a histogram."""
    value = seconds.percentile(fraction) if isinstance(seconds, Histogram) else percentile(seconds, fraction)
    return None if value is None else round(value / 60, 1)


def finish(counts: Mapping[str, float | None],
           durations: Mapping[str, Sequence[float] | Histogram]) -> dict[str, float | None]:
    """A report row: the added-up and counted figures with those derived from them. `durations`
    holds the seconds from received to `assign` and to `complete` (or their histograms). A figure that does not apply
    to the row (e.g. requests of a team) is None."""
    row = dict.fromkeys(FIGURES) | {name: counts[name] for name in FIGURES.keys() & counts.keys()}
    if "completed" in counts:
        row["sessions"] = sum(counts.get(name) or 0 for name in ("completed", "staff_handled", "disputes_closed"))
        row["within_window_share"] = share(counts["completed_within_window"], counts["completed_with_window"])
    if "return_visits" in counts:
        content = counts["return_visits_satisfied"] + counts["return_visits_basically_satisfied"]
        row["satisfaction_share"] = share(content, counts["return_visits"])
    for step, seconds in durations.items():
        row[f"median_minutes_to_{step}"], row[f"p90_minutes_to_{step}"] = minutes(seconds, 0.5), minutes(seconds, 0.9)
    row["volunteer_share_of_residents"] = share(counts.get("registered_volunteers"), counts.get("residents"))
    return row


def coverage(visited: int, targeted: int) -> float | None:
    """A campaign's coverage: the share of its targeted households visited (None: none targeted)."""
    return share(visited, targeted)


def residents(of_community: Mapping[str, int], communities: Iterable[str]) -> int | None:
    """The residents of these communities (configured, no event carries them); None unless
    every one has a number: a share over part of them would mislead."""
    communities = list(communities)
    if not communities or any(community not in of_community for community in communities):
        return None
    return sum(of_community[community] for community in communities)
