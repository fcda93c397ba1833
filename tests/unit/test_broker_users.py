"""The broker's users and permissions come from the code: each service publishes only the events
it declares, and declares every event it makes; the permissions follow (shared/broker_users.py)."""
import json
import re
import typing
from pathlib import Path

import pytest

from services.deployment import SERVICES
from services.intake.sources import SubmissionKey, load_sources
from services.intake.submissions import KINDS
from shared.broker_users import definitions, grants, vhost_of
from shared.events import EVENT_TYPES

ROOT = Path(__file__).parents[2]
SOURCES = load_sources(str(ROOT / "deploy" / "sources.dev.json"), False).known.values()
GRANTS = {grant.user: grant for grant in grants(SERVICES, SOURCES)}


def owners(routing_key: str) -> set[str]:
    return {s.name for s in SERVICES if routing_key in {e.routing_key for e in s.publishes}}


def test_every_event_a_service_makes_is_one_it_declares_it_publishes():
    for service in SERVICES:
        source = "\n".join(path.read_text() for path in (ROOT / "services" / service.name).rglob("*.py"))
        made = {t for t in EVENT_TYPES.values() if re.search(rf"\b{t.__name__}\(", source)}
        assert made <= set(service.publishes), (service.name, made - set(service.publishes))


def test_only_matching_writes_assignment_events_and_reporting_writes_only_its_erasures():
    assert {key for key in EVENT_TYPES if key.startswith("assignment.") and key != "assignment.responded"} == {
        key for key in EVENT_TYPES if owners(key) == {"matching"} and key.startswith("assignment.")}
    assert owners("assignment.responded") == {"intake"} and owners("notification.sent") == {"notify"}
    assert allowed(GRANTS["linli-reporting"].topics["linli.events"][0], "erasure.done")
    assert not any(allowed(GRANTS["linli-reporting"].topics["linli.events"][0], key)
                   for key in EVENT_TYPES if key != "erasure.done")
    assert all(owners(key) for key in EVENT_TYPES), "every event has a publisher"


def allowed(regex: str, name: str) -> bool:
    return re.fullmatch(regex, name) is not None


@pytest.mark.parametrize("user, exchange, key, ok", [
    ("linli-matching", "linli.events", "assignment.accepted", True),
    ("linli-notify", "linli.events", "assignment.accepted", False),
    ("linli-intake", "linli.events", "request.rejected", True),
    ("linli-intake", "linli.events", "request.assigned", False),
    ("hotline-12345", "linli.intake", "request.submit", True),
    ("hotline-12345", "linli.intake", "assignment.respond", False),
    ("volunteer-app", "linli.intake", "assignment.respond", True),
    ("volunteer-app", "linli.intake", "request.submit", False),
])
def test_topic_permissions_let_each_user_publish_only_its_own_keys(user, exchange, key, ok):
    grant = GRANTS[user]
    assert (allowed(grant.write, exchange) and allowed(grant.topics[exchange][0], key)) is ok


def test_sources_and_observers_get_nothing_of_the_services_queues_nor_the_personal_exchange():
    for user in ("hotline-12345", "volunteer-app", "linli-observer", "linli-ops"):
        grant = GRANTS[user]
        for resource in ("notify.assignment-accepted", "linli.personal", "intake.request-submit"):
            assert not any(allowed(regex, resource) for regex in (grant.configure, grant.write, grant.read))
        assert not allowed(grant.write, "linli.events") or user == "linli-ops"
    observer = GRANTS["linli-observer"]
    assert allowed(observer.read, "linli.events") and allowed(observer.configure, "amq.gen-Xy12")
    assert allowed(GRANTS["linli-notify"].read, "notify.assignment-accepted.dlq")
    assert not allowed(GRANTS["linli-notify"].read, "matching.assignment-responded")


def test_ops_may_replay_dead_events_on_linli_events_only():
    ops = GRANTS["linli-ops"]
    assert allowed(ops.write, "linli.events") and allowed(ops.topics["linli.events"][0], "request.received")
    assert allowed(ops.read, "matching.request-received.dlq")
    assert not any(allowed(ops.write, exchange) for exchange in ("linli.personal", "linli.intake", "linli.dlx"))


def test_the_definitions_hold_only_the_users_with_a_password_and_never_guest():
    made = definitions(vhost_of("amqp://u:p@h:5672/linli%2Fdev"), GRANTS.values(), {"hotline-12345": "pw"})
    assert [u["name"] for u in made["users"]] == ["hotline-12345"] and made["vhosts"] == [{"name": "linli/dev"}]
    assert {e["name"] for e in made["exchanges"]} == {"linli.intake", "linli.events", "linli.dlx", "linli.personal",
                                                      "linli.unrouted", "linli.unrouted.personal"}
    assert {p["exchange"] for p in made["topic_permissions"]} == {"linli.intake"}


def test_an_event_nobody_is_bound_for_goes_to_an_unrouted_queue_the_public_one_readable_by_ops():
    made = definitions("/", GRANTS.values(), {})
    alternates = {p["pattern"]: p["definition"]["alternate-exchange"] for p in made["policies"]}
    assert alternates == {r"^linli\.events$": "linli.unrouted", r"^linli\.personal$": "linli.unrouted.personal"}
    assert {(b["source"], b["destination"]) for b in made["bindings"]} == {
        ("linli.unrouted", "linli.unrouted"), ("linli.unrouted.personal", "linli.unrouted.personal")}
    assert allowed(GRANTS["linli-ops"].read, "linli.unrouted")
    assert not any(allowed(GRANTS[user].read, "linli.unrouted.personal") for user in ("linli-ops", "linli-observer"))


def test_a_source_names_only_submission_keys_and_the_test_passwords_agree_with_development():
    assert set(typing.get_args(SubmissionKey)) == {kind.routing_key for kind in KINDS}
    development = json.loads((ROOT / "deploy" / "broker-users.dev.json").read_text())
    tests = json.loads((ROOT / "tests" / "broker-users.json").read_text())
    # Users are the broker's, not a vhost's: the tests must not change a running `make run`'s passwords.
    assert {user: tests[user] for user in development.keys() & tests.keys()} == {
        user: development[user] for user in development.keys() & tests.keys()}
