"""The AsyncAPI 3.0 document of linli's messages, made from their one pydantic definition.

`python -m shared.asyncapi` prints it; docs/asyncapi.json is that output, and a test checks
that the two agree. An event type with personal fields has two channels: on `linli.events`
its public form (`<Type>Public`, without them), and on `linli.personal` (channel
`personal:<routing key>`) the whole event, which only the services may read.
"""
import copy
import json

from pydantic import BaseModel

from shared.events import EVENT_TYPES
from shared.submissions import (AssignmentResponse, HouseholdRegistration, MediationCaseSubmission, PersonErasure,
                                RequestCancellation, ServiceCompletion, ServiceRequestSubmission, VolunteerRegistration)
from shared.topology import EVENTS, INTAKE, PERSONAL

SUBMISSION_TYPES: dict[str, type[BaseModel]] = {
    "request.submit": ServiceRequestSubmission,
    "volunteer.register": VolunteerRegistration,
    "case.submit": MediationCaseSubmission,
    "assignment.respond": AssignmentResponse,
    "service.complete": ServiceCompletion,
    "request.cancel": RequestCancellation,
    "household.register": HouseholdRegistration,
    "person.erase": PersonErasure,  # staff and ops tooling only (python -m services erase)
}
REF_TEMPLATE = "#/components/schemas/{model}"


def _channel(routing_key: str, exchange: str, message: str) -> dict:
    return {"address": routing_key, "messages": {message: {"$ref": f"#/components/messages/{message}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": {"name": exchange, "type": "topic",
                                                                    "durable": True, "vhost": "/"}}}}


def _public(schema: dict, personal: frozenset[str]) -> dict:
    """The schema of an event's public form: its personal fields left out."""
    public = copy.deepcopy(schema)
    public["title"] += "Public"
    public["description"] = (public.get("description", "") + " On linli.events, without its personal fields ("
                             + ", ".join(sorted(personal)) + "): linli.personal carries them.").strip()
    public["properties"] = {k: v for k, v in public["properties"].items() if k not in personal}
    public["required"] = [k for k in public.get("required", []) if k not in personal]
    return public


def document() -> dict:
    channels, operations, messages, schemas = {}, {}, {}, {}
    sides = [(SUBMISSION_TYPES, INTAKE.name, "receive"), (EVENT_TYPES, EVENTS.name, "send")]
    for types, exchange, action in sides:
        for routing_key, model in types.items():
            schema = model.model_json_schema(ref_template=REF_TEMPLATE)
            schemas.update(schema.pop("$defs", {}))
            name = model.__name__
            personal = getattr(model, "personal", frozenset())
            public = f"{name}Public" if personal else name
            channels[routing_key] = _channel(routing_key, exchange, public)
            operations[f"{action}.{routing_key}"] = {"action": action, "channel": {"$ref": f"#/channels/{routing_key}"}}
            messages[name] = {"name": name, "contentType": "application/json", "payload": schema}
            if personal:
                whole = f"personal:{routing_key}"
                channels[whole] = _channel(routing_key, PERSONAL.name, name)
                operations[f"{action}.{whole}"] = {"action": action, "channel": {"$ref": f"#/channels/{whole}"}}
                messages[public] = {"name": public, "contentType": "application/json",
                                    "payload": _public(schema, personal)}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "linli", "version": "0.1.0",
                 "description": "Submissions linli takes on linli.intake and the events it publishes on "
                                "linli.events (which name people only by id) and, whole, on the restricted "
                                "linli.personal. Publish persistent, with a unique message_id; an event's "
                                "message_id is its event_id. See CONTRACT.md."},
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return json.dumps(document(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
