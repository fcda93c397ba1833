"""The AsyncAPI document as one readable HTML page, served at `/asyncapi.html` (`python -m
shared.asyncapi_html` prints it, to read without a running service).

A city's network is closed, so the page needs nothing from elsewhere: its CSS is inline, and it
has no script, font or image. `render_html` is a pure function of the document (the dict
shared/asyncapi.py makes); the view below turns the document's JSON Schemas into rows a person
reads: each field's type, whether it is required, its constraints and its description.
"""
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from shared.asyncapi import document

TEMPLATES = Path(__file__).parent / "templates"
SCHEMA_REF = "#/components/schemas/"
# JSON Schema keywords shown as constraints, with the words a reader sees.
BOUNDS = (("minLength", "min length"), ("maxLength", "max length"), ("minimum", "minimum"),
          ("exclusiveMinimum", "greater than"), ("maximum", "maximum"), ("exclusiveMaximum", "less than"),
          ("minItems", "min items"), ("maxItems", "max items"), ("pattern", "pattern"), ("const", "exactly"))


@dataclass(frozen=True)
class Part:
    """A piece of a type's name: plain text, or a link to a schema of the document."""

    text: str
    href: str | None = None


@dataclass(frozen=True)
class Field:
    name: str
    type: tuple[Part, ...]
    required: bool
    constraints: tuple[tuple[str, str], ...]  # (what, value)
    description: str


@dataclass(frozen=True)
class Schema:
    """A message's payload or a named schema: its fields, or (an enum) its values."""

    anchor: str
    name: str
    description: str
    fields: tuple[Field, ...]
    values: tuple[str, ...]
    closed: bool  # additionalProperties false: a field it does not name is refused

    @property
    def described(self) -> bool:
        """Whether any field has a description (else the table has no such column)."""
        return any(field.description for field in self.fields)


def anchor(kind: str, name: str) -> str:
    """An id for the page's links: `kind-name`, with anything but letters, digits, `.`, `_`, `-` as `-`."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9._-]", "-", name)


def _branches(schema: dict) -> list[dict]:
    """The alternatives of an `anyOf` other than null (pydantic's `X | None`), or the schema itself."""
    return [branch for branch in schema.get("anyOf", [schema]) if branch.get("type") != "null"]


def _nullable(schema: dict) -> bool:
    return any(branch.get("type") == "null" for branch in schema.get("anyOf", ()))


def type_of(schema: dict) -> tuple[Part, ...]:
    """A schema's type as a reader says it: `string (uuid)`, `array of Party`, `Urgency or null`."""
    parts: list[Part] = []
    for number, branch in enumerate(_branches(schema)):
        parts += [Part(" or ")] if number else []
        parts += _type_of_one(branch)
    return (*parts, Part(" or null")) if _nullable(schema) else tuple(parts)


def _type_of_one(schema: dict) -> list[Part]:
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(SCHEMA_REF)
        return [Part(name, "#" + anchor("schema", name))]
    kind = schema.get("type", "any")
    if kind == "array":
        return [Part("array of "), *type_of(schema.get("items", {}))]
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return [Part("object whose values are "), *type_of(schema["additionalProperties"])]
    return [Part(f"{kind} ({schema['format']})" if "format" in schema else str(kind))]


def constraints_of(schema: dict) -> tuple[tuple[str, str], ...]:
    """(what, value) of each constraint of a field, its null alternative's aside, and its default."""
    found = []
    for branch in _branches(schema):
        found += [(words, _shown(branch[key])) for key, words in BOUNDS if key in branch]
        found += [("one of", ", ".join(_shown(value) for value in branch["enum"]))] if "enum" in branch else []
    return (*found, *([("default", _shown(schema["default"]))] if "default" in schema else []))


def _shown(value) -> str:
    """A JSON value as JSON writes it (`null`, `true`, `[]`), a string as itself."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def fields_of(schema: dict) -> tuple[Field, ...]:
    required = set(schema.get("required", ()))
    return tuple(Field(name, type_of(field), name in required, constraints_of(field), field.get("description", ""))
                 for name, field in schema.get("properties", {}).items())


def schema_view(kind: str, name: str, schema: dict) -> Schema:
    return Schema(anchor(kind, name), name, schema.get("description", ""), fields_of(schema),
                  tuple(_shown(value) for value in schema.get("enum", ())),
                  schema.get("additionalProperties") is False)


@dataclass(frozen=True)
class Operation:
    anchor: str
    id: str
    action: str
    who: str  # who publishes and who receives


@dataclass(frozen=True)
class Channel:
    anchor: str
    id: str
    address: str
    exchange: dict
    operations: tuple[Operation, ...]
    messages: tuple[str, ...]


def _exchange(channel: dict) -> dict:
    """The channel's AMQP exchange (its binding): name, type, durable, vhost."""
    return channel.get("bindings", {}).get("amqp", {}).get("exchange", {})


def _who(action: str, channel: dict, application: str) -> str:
    """Who publishes and who receives, by the operation's action, which is from the document's
    side: `send`, the application publishes; `receive`, others publish and the application consumes."""
    exchange, key = _exchange(channel).get("name", "the broker"), channel.get("address", "")
    if action == "send":
        return f"{application} publishes it on {exchange}; whoever binds a queue to {exchange} by {key} receives it."
    return f"Other systems publish it on {exchange} with routing key {key}; {application} receives it."


def channels_of(doc: dict) -> tuple[Channel, ...]:
    application = doc["info"]["title"]
    actions: dict[str, list[tuple[str, str]]] = {}
    for operation_id, operation in doc.get("operations", {}).items():
        channel_id = operation["channel"]["$ref"].removeprefix("#/channels/")
        actions.setdefault(channel_id, []).append((operation_id, operation["action"]))
    return tuple(
        Channel(anchor("channel", channel_id), channel_id, channel.get("address", channel_id), _exchange(channel),
                tuple(Operation(anchor("operation", operation_id), operation_id, action,
                                _who(action, channel, application))
                      for operation_id, action in actions.get(channel_id, ())),
                tuple(reference["$ref"].removeprefix("#/components/messages/")
                      for reference in channel.get("messages", {}).values()))
        for channel_id, channel in doc.get("channels", {}).items())


def by_exchange(channels: Iterable[Channel]) -> dict[str, list[Channel]]:
    grouped: dict[str, list[Channel]] = {}
    for channel in channels:
        grouped.setdefault(channel.exchange.get("name", "(no exchange)"), []).append(channel)
    return grouped


def prose(text: str) -> Markup:
    """A description as paragraphs (a blank line between them), with `code` spans as code."""
    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]
    return Markup("".join(f"<p>{_code_spans(paragraph)}</p>" for paragraph in paragraphs))


def _code_spans(text: str) -> Markup:
    pieces = str(escape(text)).split("`")
    return Markup("".join(f"<code>{piece}</code>" if number % 2 else piece for number, piece in enumerate(pieces)))


def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    environment.filters["prose"] = prose
    return environment


ENVIRONMENT = _environment()


def render_html(doc: dict) -> str:
    """The whole document as one self-contained HTML page."""
    channels = channels_of(doc)
    components = doc.get("components", {})
    messages = [schema_view("message", name, message.get("payload", {}))
                for name, message in components.get("messages", {}).items()]
    carriers = {name: [channel for channel in channels if name in channel.messages] for name in
                components.get("messages", {})}
    schemas = [schema_view("schema", name, schema) for name, schema in components.get("schemas", {}).items()]
    return ENVIRONMENT.get_template("asyncapi.html").render(
        doc=doc, info=doc["info"], servers=doc.get("servers", {}), exchanges=by_exchange(channels),
        messages=messages, message_info=components.get("messages", {}), carriers=carriers, schemas=schemas,
        anchor=anchor)


@cache
def page() -> str:
    """linli's own document as the page (made once: the document is the code's)."""
    return render_html(document())


if __name__ == "__main__":
    print(page(), end="")
