"""The published AsyncAPI document says what the code does."""
import json
import subprocess
from pathlib import Path

from services.intake.submissions import KINDS
from shared.asyncapi import SUBMISSION_TYPES, document, render
from shared.events import EVENT_TYPES
from shared.submissions import PersonErasure

COMMITTED = Path(__file__).parents[2] / "docs" / "asyncapi.json"
# Every routing key CONTRACT.md names.
CONTRACT_EVENTS = {"request.received", "request.rejected", "request.assigned", "request.escalated",
                   "request.completed", "case.received", "case.assigned", "case.escalated", "case.closed",
                   "assignment.offered", "assignment.accepted", "assignment.declined", "assignment.expired",
                   "notification.sent", "notification.failed"}


def test_the_committed_document_is_the_generated_one():
    assert COMMITTED.read_text() == render(), "run: python -m shared.asyncapi > docs/asyncapi.json"


def test_every_submission_intake_takes_is_documented_with_the_schema_it_is_read_with():
    assert {kind.routing_key: kind.model for kind in KINDS} | {"person.erase": PersonErasure} == SUBMISSION_TYPES
    cancel = document()["channels"]["request.cancel"]
    assert cancel["bindings"]["amqp"]["exchange"]["name"] == "linli.intake"


def test_every_event_has_a_channel_on_linli_events_and_every_reference_resolves():
    doc = document()
    assert CONTRACT_EVENTS <= set(EVENT_TYPES)
    for routing_key in EVENT_TYPES:
        assert doc["channels"][routing_key]["bindings"]["amqp"]["exchange"]["name"] == "linli.events"
    assert doc["channels"]["request.submit"]["bindings"]["amqp"]["exchange"]["name"] == "linli.intake"
    text = json.dumps(doc)
    for name in doc["components"]["schemas"]:
        assert f"#/components/schemas/{name}" in text
    for reference in set(part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]):
        assert reference in doc["components"]["schemas"]
    received = doc["components"]["messages"]["RequestReceived"]["payload"]
    assert {"event_id", "occurred_at", "correlation_id", "request_id", "source", "external_id"} <= \
        set(received["properties"])


def test_an_event_that_names_people_is_public_on_linli_events_and_whole_only_on_linli_personal():
    doc = document()
    for routing_key, event_type in EVENT_TYPES.items():
        public = doc["channels"][routing_key]
        [message] = public["messages"]
        payload = doc["components"]["messages"][message]["payload"]
        assert not event_type.personal & set(payload["properties"]), routing_key
        whole = doc["channels"].get(f"personal:{routing_key}")
        assert (whole is not None) == bool(event_type.personal), routing_key
        if whole:
            assert whole["bindings"]["amqp"]["exchange"]["name"] == "linli.personal"
            [message] = whole["messages"]
            assert event_type.personal <= set(doc["components"]["messages"][message]["payload"]["properties"])
    offered = doc["components"]["messages"]["AssignmentOfferedPublic"]["payload"]
    assert "address" not in offered["properties"] and "description" not in offered["required"]


PARSER = Path(__file__).parents[2] / "tools" / "asyncapi"


def official_parser(text: str) -> subprocess.CompletedProcess:
    """The official AsyncAPI parser's verdict on a document (tools/asyncapi/check.js)."""
    assert (PARSER / "node_modules" / "@asyncapi" / "parser").is_dir(), \
        "the AsyncAPI parser is not installed: run scripts/ensure-asyncapi-parser.sh (make test does)"
    return subprocess.run(["node", str(PARSER / "check.js")], input=text, capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_document_is_valid_asyncapi_for_the_official_parser():
    verdict = official_parser(render())
    assert verdict.returncode == 0, f"the AsyncAPI parser finds errors:\n{verdict.stdout}{verdict.stderr}"
    assert "0 error(s)" in verdict.stdout


def test_the_official_parser_names_what_is_wrong_in_a_broken_document():
    broken = document()
    del broken["info"]["version"]
    broken["channels"]["request.submit"]["messages"]["ServiceRequestSubmission"]["$ref"] = "#/components/messages/Nope"
    verdict = official_parser(json.dumps(broken))
    assert verdict.returncode == 1
    assert '"version"' in verdict.stdout and "#/components/messages/Nope' does not exist" in verdict.stdout
