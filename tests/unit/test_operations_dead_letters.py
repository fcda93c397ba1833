"""What a dead letter says of itself (`x-death` as RabbitMQ writes it), where a replay sends
it, and its body as an operator sees it: nobody's name, phone or address."""
import json
from datetime import UTC, datetime, timedelta

from operations.dead_letters import (WITHHELD, age_seconds, dlq_of, first_death, masked_body, origin,
                                     readable_age, refusal, replayed_headers)

DIED = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
# Dead-lettered twice: first rejected in matching's queue, then (replayed) over its delivery limit.
HEADERS = {
    "x-death": [
        {"queue": "matching.request-received", "reason": "delivery_limit", "count": 1,
         "exchange": "linli.events", "routing-keys": ["request.received"], "time": DIED + timedelta(hours=1)},
        {"queue": "matching.request-received", "reason": "rejected", "count": 2, "exchange": b"linli.events",
         "routing-keys": [b"request.received"], "time": DIED},
    ],
    "x-first-death-queue": "matching.request-received", "x-first-death-reason": "rejected",
    "x-first-death-exchange": "linli.events", "x-last-death-queue": "matching.request-received",
    "x-delivery-count": 3, "trace": "kept",
}


def test_the_queue_or_its_dlq_names_the_dlq():
    assert dlq_of("matching.request-received") == dlq_of("matching.request-received.dlq") == \
        "matching.request-received.dlq"


def test_the_first_death_gives_the_reason_the_count_and_where_a_replay_goes():
    death = first_death(HEADERS)
    assert (death.queue, death.reason, death.count) == ("matching.request-received", "rejected", 2)
    assert origin(HEADERS) == ("linli.events", "request.received")
    assert first_death({}) is None and origin(None) is None


def test_a_replay_keeps_the_headers_and_the_death_history_but_not_the_delivery_count():
    kept = replayed_headers(HEADERS)
    assert "x-delivery-count" not in kept and kept["trace"] == "kept" and kept["x-death"] == HEADERS["x-death"]


def test_only_a_dead_letter_published_without_another_user_id_may_be_replayed_by_ops():
    assert refusal(HEADERS, None, "linli-ops") is None
    assert refusal(HEADERS, "linli-ops", "linli-ops") is None
    assert "hotline-12345" in refusal(HEADERS, "hotline-12345", "linli-ops")
    assert "not a message the broker dead-lettered" in refusal({}, None, "linli-ops")


def test_the_age_is_since_the_first_death():
    assert age_seconds(first_death(HEADERS), DIED + timedelta(minutes=5)) == 300
    assert [readable_age(s) for s in (None, 42, 300, 7200, 200000)] == ["unknown", "42s", "5m", "2h", "2d"]


def test_an_event_body_shows_no_personal_field_and_no_phone_or_name_anywhere():
    body = {"request_id": "r-1", "description": "王秀英 needs meals, call 13800000001", "address": "幸福路 8 号",
            "beneficiary": {"name": "王秀英", "phone": "13800000001"}, "category": "elder_care.meals"}
    shown = masked_body(json.dumps(body, ensure_ascii=False).encode(), "request.received")
    assert json.loads(shown)["description"] == WITHHELD and json.loads(shown)["category"] == "elder_care.meals"
    for secret in ("王秀英", "13800000001", "幸福路"):
        assert secret not in shown


def test_a_broken_or_unknown_body_is_masked_as_text():
    broken = '{"source": "hotline-12345", "name": "李小龙", "phone": "139-1234-5678", "address": "长安街 1'
    shown = masked_body(broken.encode(), "request.submit")  # cut short in the address
    assert "李小龙" not in shown and "1234-5678" not in shown and "长安街" not in shown and "hotline-12345" in shown
