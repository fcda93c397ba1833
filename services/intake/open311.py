"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) at /open311/v2: the catalogue as
services, a POSTed form as the same submission as `request.submit`, and requests with their status.
Every path ends in .json or .xml, which chooses the format of the answer, errors included."""
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import parse_qsl
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from services.intake import store
from services.intake.domain import MAX_BODY_BYTES, Rejection
from services.intake.context import Intake
from services.intake.submissions import REQUEST, Accepted, count, receive_request
from services.intake.open311_xml import to_xml
from services.intake.sources import Sources
from shared.access import API_KEY_HEADER
from shared.catalogue import SERVICES
from shared.http import read_body
from shared.identity import Refused
from shared.privacy import mask_phone_numbers
from shared.service import deps_of
from shared.statuses import FINAL
from shared.submissions import Urgency

FORMATS = ("json", "xml")
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 100
# A page of the public listing: at most this many, newest first (`page_size` asks for fewer).
MAX_REQUESTS = 200
DEFAULT_PERIOD = timedelta(days=90)
# The source of a request whose api_key linli does not know, when unknown sources are accepted (development).
UNKNOWN_KEY_SOURCE = "open311"


class Open311Error(Exception):
    """An answer in the spec's error shape: [{"code": 400, "description": "…"}]."""

    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code, self.description = code, description


class _Open311Route(APIRoute):
    """Refuses a format other than .json and .xml, and answers every Open311Error in the spec's
    error shape, in the format the path asks for (JSON when it asks for none that exists)."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            fmt = request.path_params.get("fmt", "json")
            try:
                if fmt not in FORMATS:
                    raise Open311Error(404, f"unknown format {fmt!r}: Open311 paths end in .json or .xml")
                return await handle(request)
            except (Open311Error, Refused) as error:
                code, description = (error.code, error.description) if isinstance(error, Open311Error) else (
                    error.status, error.reason)
                return render("json" if fmt not in FORMATS else fmt, "errors",
                              [{"code": code, "description": description}], code)
        return route


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=_Open311Route)


def render(fmt: str, root: str, payload: list | dict, status: int = 200) -> Response:
    """`payload` as JSON, or as XML under the spec's `root` element."""
    if fmt == "xml":
        return Response(to_xml(root, payload), status_code=status, media_type="application/xml; charset=utf-8")
    return JSONResponse(payload, status_code=status)


# --- services -------------------------------------------------------------------------------

URGENCY_NAMES = {Urgency.NORMAL: "一般", Urgency.HIGH: "紧急", Urgency.EMERGENCY: "特急"}
# code, datatype, required, description, datatype_description
ATTRIBUTE_SPECS = (
    ("community_code", "string", True, "居民所在社区的代码", "社区代码,如 c-north"),
    ("grid_code", "string", False, "社区内的网格代码", "网格代码,如 g-3"),
    ("urgency", "singlevaluelist", False, "紧急程度,默认一般(normal)", "normal、high 或 emergency"),
    ("window_start", "datetime", False, "希望服务开始的时间", "ISO 8601,带时区,如 2026-11-23T09:00:00+08:00"),
    ("window_end", "datetime", False, "希望服务结束的时间", "ISO 8601,带时区,须晚于 window_start"),
    ("volunteers_needed", "number", False, "需要的志愿者人数,默认 1", "1 到 20 的整数"),
    ("external_id", "string", False, "贵方系统中的编号:同一编号再次提交不会重复受理",
     "最多 128 个字符;不填则由 linli 生成,重复提交会被当作新的请求"),
)
ATTRIBUTES = [
    {"variable": True, "code": code, "datatype": datatype, "required": required,
     "datatype_description": datatype_description, "order": order, "description": description}
    | ({"values": [{"key": u.value, "name": name} for u, name in URGENCY_NAMES.items()]}
       if datatype == "singlevaluelist" else {})
    for order, (code, datatype, required, description, datatype_description) in enumerate(ATTRIBUTE_SPECS, 1)
]


def service(code: str) -> dict:
    name, skills = SERVICES[code]
    return {"service_code": code, "service_name": name, "description": f"{name}(所需技能:{', '.join(skills)})",
            "metadata": True, "type": "realtime", "keywords": ",".join(skills), "group": code.split(".")[0]}


@router.get("/services.{fmt}")
async def service_list(fmt: str):
    return render(fmt, "services", [service(code) for code in SERVICES])


@router.get("/services/{code}.{fmt}")
async def service_definition(code: str, fmt: str):
    if code not in SERVICES:
        raise Open311Error(404, f"unknown service_code {code!r}")
    return render(fmt, "service_definition", {"service_code": code, "attributes": ATTRIBUTES})


# --- POST requests --------------------------------------------------------------------------

ATTRIBUTE_FIELD = re.compile(r"attribute\[(.+)\]")
# Attributes that are contract fields of the same name.
PLAIN_ATTRIBUTES = ("community_code", "grid_code", "urgency", "volunteers_needed")
HAN = re.compile(r"[\u3400-\u9fff]")
NOTICES = {"received": "已受理,正在为您匹配志愿者。",
           "linked": "已受理:与其他渠道已报的同一需求合并处理。",
           "duplicate": "此前已受理(同一 external_id),未重复登记。",
           "cancelled": "已受理并按此前收到的撤销请求撤销,不派志愿者。"}  # its cancellation came first


@router.post("/requests.{fmt}")
async def create_request(fmt: str, request: Request, intake: Intake = Depends(deps_of)):
    """The same submission as `request.submit`, taken by the same path; the api_key proves the source."""
    form = await read_form(request)
    source = source_of(intake.sources, form.get("api_key"))
    body = json.dumps(to_submission(form, source), ensure_ascii=False).encode()
    correlation_id = request.headers.get("x-correlation-id") or str(uuid4())
    async with intake.unit_of_work() as uow:
        result = await receive_request(intake, uow, body, correlation_id, sent_by=source)
    count(REQUEST, result)
    if isinstance(result, Rejection):
        raise Open311Error(400, result.reason)
    return render(fmt, "service_requests", [created(result)], 200 if result.duplicate else 201)


async def read_form(request: Request) -> dict[str, str]:
    """The form as the spec sends it; one that is too large, not UTF-8 or not urlencoded is
    refused rather than guessed at."""
    content_type = request.headers.get("content-type", FORM_TYPE).split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise Open311Error(400, f"send the request as {FORM_TYPE}, not {content_type}")
    body = await read_body(request, MAX_BODY_BYTES)
    if len(body) > MAX_BODY_BYTES:
        raise Open311Error(400, f"the form is larger than the limit of {MAX_BODY_BYTES} bytes")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict",
                              max_num_fields=MAX_FORM_FIELDS))
    except ValueError as error:  # UnicodeDecodeError included
        raise Open311Error(400, f"the form cannot be read: {error}") from None


def source_of(sources: Sources, api_key: str | None) -> str:
    known = sources.for_api_key(api_key)
    if known is not None:
        return known.source
    if sources.accept_unknown:
        return UNKNOWN_KEY_SOURCE
    raise Open311Error(403, "missing or unknown api_key")


def to_submission(form: Mapping[str, str], source: str) -> dict:
    """The ServiceRequestSubmission a POSTed form stands for; a blank field counts as absent.

    An attribute linli does not define is passed on under its form name, so that the contract
    refuses it by name: attribute[urgncy]=emergency must not pass as a normal request. Fields of
    the spec that linli has no use for (email, device_id, media_url …) are left out."""
    given = {key: value.strip() for key, value in form.items() if value.strip()}
    attributes = {match[1]: value for key, value in given.items() if (match := ATTRIBUTE_FIELD.fullmatch(key))}
    external_id = attributes.pop("external_id", None) or f"open311-{uuid4()}"
    window = {"start": attributes.pop("window_start", None), "end": attributes.pop("window_end", None)}
    fields = {name: attributes.pop(name, None) for name in PLAIN_ATTRIBUTES} | {
        "category": given.get("service_code"), "description": given.get("description"),
        "address": given.get("address_string"),
        "location": _present({"lat": given.get("lat"), "lon": given.get("long")}),
        "window": _present(window),
        "beneficiary": _present({"name": full_name(given.get("first_name", ""), given.get("last_name", "")),
                                 "phone": given.get("phone")}),
    }
    unknown = {f"attribute[{name}]": value for name, value in attributes.items()}
    return {"source": source, "external_id": external_id, **_present(fields), **unknown}


def _present(values: dict) -> dict:
    """`values` without the absent (None, blank or empty) ones."""
    return {key: value for key, value in values.items() if value}


def full_name(first: str, last: str) -> str:
    """A Chinese name puts the family name (last_name) first, with no space: 王 + 芳 = 王芳."""
    return last + first if HAN.search(first + last) else f"{first} {last}".strip()


def created(result: Accepted) -> dict:
    return {"service_request_id": str(result.id), "service_notice": NOTICES.get(result.outcome, "已受理。"),
            "account_id": None}


# --- GET requests ---------------------------------------------------------------------------

# intake's status -> what the notes say, and the key of status_detail that tells more.
STATUS_NOTES = {
    "received": ("已受理,正在匹配志愿者", None),
    "assigned": ("已派给志愿者", None),
    "escalated": ("没有合适的志愿者,已转社区工作人员处理,原因", "reason"),
    "duplicate": ("与其他渠道已报的同一需求合并处理,见请求", "duplicate_of"),
    "completed": ("服务已完成", None),
    "missed": ("服务时段已过而未完成,已告知社区工作人员", None),
    "cancelled": ("已撤销,原因", "reason"),
}


@router.get("/requests.{fmt}")
async def request_list(request: Request, fmt: str, service_request_id: str | None = None,
                       service_code: str | None = None, start_date: str | None = None, end_date: str | None = None,
                       status: str | None = None, page_size: int = MAX_REQUESTS, api_key: str | None = None,
                       intake: Intake = Depends(deps_of)):
    """Newest first, at most 200 (`page_size` fewer). As the spec says, service_request_id
    overrides every other filter. Open to anyone, who sees what the public needs (no person, no
    description, no exact place); the source that submitted a request sees it whole with its
    api_key (or X-Api-Key)."""
    reader = reader_of(intake.sources, api_key, request)
    if not 1 <= page_size <= MAX_REQUESTS:
        raise Open311Error(400, f"page_size is from 1 to {MAX_REQUESTS}, not {page_size}")
    if service_request_id:
        fetch = partial(store.open311_requests_by_id, request_ids=request_ids(service_request_id)[:MAX_REQUESTS])
    else:
        city = ZoneInfo(intake.runtime.settings.linli_timezone)
        fetch = partial(store.open311_requests_received,
                        **request_filters(service_code, start_date, end_date, status, intake.now(), city, page_size))
    async with intake.runtime.pool.acquire() as conn:
        rows = await fetch(conn)
    return render(fmt, "service_requests", [as_request(row, full=row["source"] == reader) for row in rows])


@router.get("/requests/{request_id}.{fmt}")
async def one_request(request: Request, request_id: str, fmt: str, api_key: str | None = None,
                      intake: Intake = Depends(deps_of)):
    """A list of one, as the spec has it; whole for its source, public for anyone else."""
    reader = reader_of(intake.sources, api_key, request)
    known = as_uuid(request_id)
    async with intake.runtime.pool.acquire() as conn:
        rows = await store.open311_requests_by_id(conn, [known]) if known else []
    if not rows:
        raise Open311Error(404, f"no service request {request_id!r}")
    return render(fmt, "service_requests", [as_request(row, full=row["source"] == reader) for row in rows])


def reader_of(sources: Sources, api_key: str | None, request: Request) -> str | None:
    """The source whose key the reader gave (None: the public); a key given but unknown is a 403."""
    key = api_key or request.headers.get(API_KEY_HEADER)
    if not key:
        return None
    known = sources.for_api_key(key)
    if known is None:
        raise Open311Error(403, "unknown api_key")
    return known.source


@router.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def not_found(path: str):
    raise Open311Error(404, f"no such Open311 resource: {path!r}")


def as_uuid(text: str) -> UUID | None:
    """A request id, or None for text that cannot be one (and so names no request)."""
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def request_ids(text: str) -> list[UUID]:
    return [request_id for part in text.split(",") if (request_id := as_uuid(part))]


def request_filters(service_code: str | None, start_date: str | None, end_date: str | None,
                    status: str | None, now: datetime, city: ZoneInfo, limit: int = MAX_REQUESTS) -> dict:
    """The store's filters: received between start and end (the last 90 days unless told; a time
    without an offset is on the city's clock), of these service codes, open or closed."""
    end = instant("end_date", end_date, city) if end_date else now
    start = instant("start_date", start_date, city) if start_date else end - DEFAULT_PERIOD
    if start_date and end_date and start > end:  # a start alone after now only finds nothing
        raise Open311Error(400, "start_date is after end_date")
    return {"start": start, "end": end, "categories": _split(service_code) or None, "limit": limit,
            **status_filter(status)}


def instant(name: str, text: str, city: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} is not an ISO 8601 time: {text!r} (in a URL, + is written %2B)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=city)


def status_filter(text: str | None) -> dict:
    """Open311's open/closed as intake's statuses: the final ones (closed), or the others."""
    wanted = set(_split(text))
    if wanted - {"open", "closed"}:
        raise Open311Error(400, f"status is open or closed, not {text!r}")
    if len(wanted) != 1:
        return {"statuses": None, "among": True}
    return {"statuses": sorted(FINAL), "among": wanted == {"closed"}}


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def as_request(row: Mapping, full: bool = False) -> dict:
    """A row of store.open311_requests_* as the spec's service request. The public sees service,
    status, notes, times and the community (as its `address`, rounded to the community, without
    coordinates); `full` (the request's own source) adds the description, address and place."""
    submission, location = row["submission"], row["submission"].get("location") or {}
    public = {"service_request_id": str(row["request_id"]),
              "status": "closed" if row["status"] in FINAL else "open",
              "status_notes": mask_phone_numbers(status_notes(row["status"], row["status_detail"] or {})),
              "service_name": SERVICES[row["category"]][0] if row["category"] in SERVICES else row["category"],
              "service_code": row["category"],
              "description": None,
              "agency_responsible": row["team"] or f"社区 {row['community_code']}",
              "requested_datetime": row["received_at"].isoformat(timespec="seconds"),
              "updated_datetime": row["updated_at"].isoformat(timespec="seconds"),
              "address": f"社区 {row['community_code']}", "lat": None, "long": None}
    if not full:
        return public
    return {**public, "description": mask_phone_numbers(submission.get("description") or ""),
            "address": submission.get("address"), "lat": location.get("lat"), "long": location.get("lon")}


def status_notes(status: str, detail: Mapping) -> str:
    """Where the request stands, in intake's word and in Chinese, with the escalation's reason."""
    words, more = STATUS_NOTES.get(status, ("处理中", None))
    note = f"{status}: {words}"
    return f"{note}: {detail[more]}" if more and detail.get(more) else note
