"""Reasons as data: a code and its parameters, rendered in the reader's language.

An escalation's reason used to be an English sentence, and the Chinese dashboard showed it as
it was. Now matching decides a `Reason` (code + params); an event keeps the English sentence in
`reason` (the contract's field, unchanged) and adds `reason_code` and `reason_params`, from which
`text(code, params, language)` renders it in Chinese for staff or in English where the reader
asks for it. A code this module does not know renders as None: show the event's `reason`.
"""
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.catalogue import SERVICES, service_name

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# Why one volunteer cannot take a task (services/matching/domain/candidates.py), most common first
# in a sentence; each code's English is the words the reasons always used.
RULES: dict[str, tuple[str, str]] = {
    "paused": ("paused", "暂停服务"),
    "already_offered": ("already offered this task (declined, expired or pending)", "已邀约过(已拒绝、已过期或待答复)"),
    "lacks_skill": ("lacks a needed skill", "缺少所需技能"),
    "not_available": ("not available in the window", "该时段没空"),
    "booked": ("booked in an overlapping window", "时段已有其他服务"),
    "weekly_cap": ("at the weekly hour cap", "已达每周服务时长上限"),
    "open_cap": ("at the cap of open assignments", "手头任务已达上限"),
}
LEVELS = {"grid": ("grid", "网格"), "community": ("community", "社区"), "street": ("street", "街道"),
          "street_staff": ("street staff", "街道工作人员")}
SATISFACTION = {"satisfied": ("satisfied", "满意"), "basically_satisfied": ("basically satisfied", "基本满意"),
                "dissatisfied": ("dissatisfied", "不满意")}


class Reason(BaseModel):
    """Why something happened, as a code and its parameters (JSON values only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    params: dict[str, Any] = Field(default_factory=dict)

    def text(self, language: str = "en") -> str:
        rendered = text(self.code, self.params, language)
        if rendered is None:
            raise KeyError(f"no wording for reason code {self.code!r}")
        return rendered

    def fields(self) -> dict:
        """What an event carries: the English sentence and the structure it was made from."""
        return {"reason": self.text("en"), "reason_code": self.code, "reason_params": self.params}


def task_label(task: str, language: str) -> str:
    """A task named in a reason: a catalogue code, or "case" (a mediation case)."""
    if task == "case":
        return "the case" if language == "en" else "该调解案件"
    if language == "en":
        return task
    return f"{service_name(task)}({task})" if task in SERVICES else task


def _failures(failures: Mapping[str, int], language: str) -> str:
    """Most failed rule first; ties in the order of their English words, as the sentences always
    were (jsonb keeps no key order, so the order is the wording's)."""
    ordered = sorted(failures.items(), key=lambda kv: (-kv[1], RULES.get(kv[0], (kv[0],))[0]))
    if language == "en":
        return ", ".join(f"{count} {RULES.get(rule, (rule, rule))[0]}" for rule, count in ordered)
    return "、".join(f"{count}人{RULES.get(rule, (rule, rule))[1]}" for rule, count in ordered)


def _area(p: dict, en: bool) -> str:
    """Where was searched: a request's communities, or a case's level and its places."""
    places = ", ".join(p["places"]) if en else "、".join(p["places"])
    if p["task"] != "case":
        return f"community {places}" if en else f"社区 {places} "
    return f"{p['level']} level ({places})" if en else f"{_level(p['level'], False)}层级({places})"


def _nobody(p: dict, en: bool) -> str:
    task, area, failures = task_label(p["task"], "en" if en else "zh"), _area(p, en), p.get("failures") or {}
    if not failures:
        return (f"no active volunteer in {area} has every skill that {task} needs" if en
                else f"{area}没有具备{task}所需全部技能的在岗志愿者")
    parts = _failures(failures, "en" if en else "zh")
    return f"nobody in {area} can take {task}: {parts}" if en else f"{area}无人能接{task}:{parts}"


def _short(p: dict, en: bool) -> str:
    inner = _nobody(p, en)
    return (f"found {p['found']} of {p['needed']} volunteers; {inner}" if en
            else f"只找到{p['found']}/{p['needed']}名志愿者;{inner}")


def _level(level: str, en: bool) -> str:
    return LEVELS.get(level, (level, level))[0 if en else 1]


def _hours(hours: float) -> str:
    return f"{hours:g}"


WORDING: dict[str, Callable[[dict, bool], str]] = {
    # Searched `places` (a case: at `level`) for `task` (a catalogue code, or "case") and nobody
    # could take it (`failures`: rule code -> how many volunteers failed it).
    "nobody_able": _nobody,
    # Some places are held (`found` of `needed`), the rest nobody can take.
    "short_staffed": _short,
    # An accepted assignment not reported done within `hours` (a request: "a volunteer …").
    "not_reported": lambda p, en: (f"{'a volunteer ' if p.get('volunteer') else ''}accepted but not reported done "
                                   f"within {_hours(p['hours'])} hours" if en
                                   else f"志愿者接单后{_hours(p['hours'])}小时内未报告完成"),
    # A mediation session at `level` ended without agreement.
    "no_agreement": lambda p, en: (f"no agreement at {p['level']} level" if en
                                   else f"{_level(p['level'], False)}调解未达成协议"),
    # Staff moved a case up by hand (`note`: their words, optional).
    "moved_up_by_staff": lambda p, en: (("moved up by staff" + (f": {p['note']}" if p.get("note") else "")) if en
                                        else "工作人员上报" + (f":{p['note']}" if p.get("note") else "")),
    # Staff cancelled a request as not needed (`note`: why).
    "not_needed": lambda p, en: (("not needed" + (f": {p['note']}" if p.get("note") else "")) if en
                                 else "无需服务" + (f":{p['note']}" if p.get("note") else "")),
}


def text(code: str | None, params: Mapping[str, Any] | None, language: str = DEFAULT_LANGUAGE) -> str | None:
    """The reason in `language` ("zh" or "en"; anything else is Chinese), or None for a code
    without wording (or parameters it cannot be worded from): the caller then shows the event's
    English `reason`."""
    wording = WORDING.get(code or "")
    if wording is None:
        return None
    try:
        return wording(dict(params or {}), language == "en")
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def rendered(row: Mapping[str, Any], language: str = DEFAULT_LANGUAGE) -> str | None:
    """A row's reason for a reader: from its `reason_code` and `reason_params` where it has them,
    else its plain `reason`."""
    return text(row.get("reason_code"), row.get("reason_params"), language) or row.get("reason")


def language_of(asked: str | None) -> str:
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE
