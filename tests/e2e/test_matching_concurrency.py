"""Two matching processes, competing for one burst over the real broker and database, never
over-book a volunteer nor offer one request twice: the caps hold in PostgreSQL."""
import random
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.builders.matching import received, registered
from tests.e2e.processes import system
from tests.identities import OPS
from tests.support import event_tap, eventually, metric, publish_burst

pytestmark = pytest.mark.e2e

CAP = 2
AREAS = str(Path(__file__).parent.parent / "areas.json")


def announced(events) -> list[tuple[str, dict, str]]:
    return [(e.routing_key, e.model_dump(mode="json"), str(e.event_id)) for e in events]


async def test_two_matching_processes_share_a_burst_without_over_booking(fresh_settings, tmp_path):
    settings = fresh_settings
    random.seed(7)
    volunteers = [registered(place, "cooking") for place in ("east-1", "east-2") for _ in range(8)]
    requests = [received(random.choice(("east-1", "east-2")), "elder_care.meals",
                         volunteers_needed=random.choice((1, 1, 2))) for _ in range(40)]
    # Busy volunteers escalate at once: the test is of the caps, not of the wait for a free place.
    with system(settings, tmp_path, names=("matching", "matching:2"), MATCHING_MAX_OPEN_ASSIGNMENTS=str(CAP),
                MATCHING_WAIT_FOR_FREE_SECONDS="0",
                MATCHING_AREAS_FILE=AREAS) as services:
        first, second = (services[name].url for name in ("matching", "matching:2"))
        async with event_tap(settings) as tap:
            await publish_burst(settings, announced(volunteers), exchange="linli.personal")  # whole, as matching reads them

            def roster_complete():
                return len(httpx.get(f"{first}/api/v1/volunteers", params={"limit": 100}, headers=OPS).json()) == len(volunteers)
            await eventually(roster_complete, 60)
            await publish_burst(settings, announced(requests), exchange="linli.personal")

            def every_request_decided():
                offered = Counter(e["request_id"] for e in tap.of("assignment.offered"))
                escalated = {e["request_id"] for e in tap.of("request.escalated")}
                return all(offered[str(r.request_id)] == r.volunteers_needed or str(r.request_id) in escalated
                           for r in requests)
            await eventually(every_request_decided, 90)
        roster = httpx.get(f"{second}/api/v1/volunteers", params={"limit": 100}, headers=OPS).json()
        shares = []
        for url in (first, second):
            async with httpx.AsyncClient(base_url=url, headers=OPS) as client:
                shares.append(await metric(client, "linli_handled_messages_total",
                                           handler="matching.request-received", outcome="done"))
    offers = tap.of("assignment.offered")
    per_volunteer = Counter(o["volunteer"]["volunteer_id"] for o in offers)
    per_request = Counter(o["request_id"] for o in offers)
    pairs = Counter((o["request_id"], o["volunteer"]["volunteer_id"]) for o in offers)
    assert max(per_volunteer.values()) <= CAP and max(pairs.values()) == 1
    assert all(per_request[str(r.request_id)] <= r.volunteers_needed for r in requests)
    assert len(offers) == len(volunteers) * CAP  # demand (about 53 places) exceeds the 32 places there are
    assert {row["volunteer_id"]: row["open_assignments"] for row in roster} == dict(per_volunteer)
    assert all(share > 0 for share in shares)  # both processes took part
