"""Message texts from Jinja2 templates, one per kind and language (templates/<language>/<kind>.txt).

A template has a `subject` block and a `body` block. Its fields are raw values (codes, times,
ids); the filters turn them into the recipient's language: `service`, `level`, `outcome`,
`dispute`, `when` (a time on the city's clock), `duration`, and `reason` (an event's English
reason, rendered from its code and parameters where it has them: shared/reasons.py)."""
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.notify.domain.routing import CHINESE, ENGLISH
from shared import reasons
from shared.catalogue import service_name
from shared.mediation import Level

TEMPLATES = Path(__file__).parent / "templates"
ENGLISH_SERVICES = {
    "elder_care.cleaning": "home cleaning", "elder_care.meals": "meals", "elder_care.companionship": "companionship",
    "elder_care.home_visit": "home visit", "health.checkup": "health check", "health.rehab": "rehabilitation care",
    "legal.consultation": "legal advice", "psych.counseling": "counselling", "employment.guidance": "job guidance",
    "policy.explanation": "policy explanation", "digital.assistance": "help with phones and online services",
    "child.tutoring": "homework tutoring", "child.care": "care for children", "safety.patrol": "night patrol",
    "environment.cleanup": "stairwell clean-up", "culture.activity": "cultural activity",
    "housekeeping": "housekeeping", "mediation": "dispute mediation",
}
WORDS = {
    CHINESE: {"grid": "网格", "community": "社区", "street": "街道", Level.STREET_STAFF: "街道工作人员",
              "agreement": "达成协议", "no_agreement": "未达成协议", "unknown time": "待约定",
              "neighbour": "邻里", "family": "家庭", "property_management": "物业", "noise": "噪音",
              "parking": "停车", "debt": "债务", "other": "其他"},
    ENGLISH: {"grid": "grid", "community": "community", "street": "street", Level.STREET_STAFF: "street staff",
              "agreement": "agreement reached", "no_agreement": "no agreement", "unknown time": "to be arranged",
              "neighbour": "neighbour", "family": "family", "property_management": "property management",
              "noise": "noise", "parking": "parking", "debt": "debt", "other": "other"},
}


class Renderer:
    def __init__(self, timezone: tzinfo):
        self._environments = {language: self._environment(language, timezone) for language in WORDS}

    def render(self, kind: str, language: str, fields: dict) -> tuple[str, str]:
        """(subject, body) of message `kind` in `language`."""
        template = self._environments[language].get_template(f"{language}/{kind}.txt")
        context = template.new_context(fields)
        return tuple("".join(template.blocks[block](context)).strip() for block in ("subject", "body"))

    @staticmethod
    def _environment(language: str, timezone: tzinfo) -> Environment:
        words = WORDS[language]
        # auto_reload off: the templates ship with the code, so each is read once, not checked per message
        environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, autoescape=False,
                                  trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, auto_reload=False)
        environment.filters.update(
            service=service_name if language == CHINESE else ENGLISH_SERVICES.__getitem__,
            level=words.__getitem__, outcome=words.__getitem__, dispute=lambda code: words.get(code, code),
            when=lambda moment: _local(moment, timezone) if moment else words["unknown time"],
            duration=lambda lead: _duration(lead, language),
            reason=lambda words, code, params: _reason(words, code, params, language))
        return environment


def _reason(words: str, code: str | None, params: dict, language: str) -> str:
    """`{{ reason|reason(reason_code, reason_params) }}`: an event from before reasons had codes
    (or with a code this version cannot word) shows its English words."""
    return reasons.text(code, params, "en" if language == ENGLISH else "zh") or words


def _local(moment: datetime, timezone: tzinfo) -> str:
    return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M")


def _duration(lead: timedelta, language: str) -> str:
    minutes = round(lead.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    if language == CHINESE:
        return f"{hours} 小时" if hours and not rest else f"{minutes} 分钟"
    if hours and not rest:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
