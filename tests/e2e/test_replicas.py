"""The whole flow with two processes of every service (`python -m services run --replicas 2`),
competing consumers of the same queues over the real broker and database: every request goes
submit → offered → accepted → assigned → completed (or escalated), each notified once, reporting's
figures are right, no place is staffed twice, and both processes of each service did some of the
work (their own /metrics)."""
import httpx
import pytest

from faults.measure import duplicated_notifications, staffed_twice
from faults.processes import supervised
from tests.e2e.test_flow import accepted_and_done, request, volunteer
from tests.identities import OPS
from tests.support import event_tap, eventually, handled, publish_burst

pytestmark = pytest.mark.e2e

TIMEOUT = 90
VOLUNTEERS = [volunteer("c-north", "cooking") for _ in range(4)] + [volunteer("c-north", "medical")]
ASSIGNABLE = [request("c-north", "elder_care.meals") for _ in range(16)] + \
             [request("c-north", "health.checkup") for _ in range(4)]
UNASSIGNABLE = [request("c-south", "child.tutoring") for _ in range(6)]


def get(url: str, path: str):
    response = httpx.get(f"{url}{path}", timeout=10, headers=OPS)
    assert response.status_code == 200, response.text
    return response.json()


async def shares(system) -> dict[str, float]:
    """Messages each replica's consumers finished with, by replica."""
    found = {}
    for service, names in system.replicas.items():
        for name in names:
            async with httpx.AsyncClient(base_url=system.urls[name], headers=OPS, timeout=10) as client:
                found[name] = await handled(client, service)
    return found


async def test_two_processes_of_every_service_share_the_flow_without_doing_anything_twice(fresh_settings, tmp_path):
    settings, valid = fresh_settings, ASSIGNABLE + UNASSIGNABLE
    with supervised(settings, tmp_path, replicas=2, OUTBOX_POLL_SECONDS="0.2",
                    MATCHING_MAX_OPEN_ASSIGNMENTS="10") as system:
        assert sorted(system.pids()) == sorted(f"{s}-{k}" for s in ("intake", "matching", "notify", "reporting")
                                               for k in (1, 2)), system.tail()  # a replica that died says why
        async with event_tap(settings) as tap:
            await publish_burst(settings, [("volunteer.register", v, None) for v in VOLUNTEERS])
            await eventually(lambda: len(get(system.url("matching"), "/api/v1/volunteers")) == len(VOLUNTEERS),
                             TIMEOUT)
            sent = await publish_burst(settings, [("request.submit", r, None) for r in valid])
            await publish_burst(settings, [("request.submit", valid[i], sent[i]) for i in (0, 7, 21)])  # redelivered

            offers = await tap.wait_for("assignment.offered", len(ASSIGNABLE), TIMEOUT)
            await tap.wait_for("request.escalated", len(UNASSIGNABLE), TIMEOUT)
            await accepted_and_done(settings, tap, offers, TIMEOUT)
            await tap.wait_for("notification.sent", len(valid), TIMEOUT)

            def reported():
                figures = get(system.url("reporting"), "/api/v1/reports/summary")["figures"]
                totals = {name: figures[name] for name in ("received", "assigned", "escalated", "completed")}
                return totals if totals["completed"] >= len(ASSIGNABLE) and totals["escalated"] >= len(UNASSIGNABLE) \
                    else None
            totals = await eventually(reported, TIMEOUT)
            work = await shares(system)

    assert totals == {"received": len(valid), "assigned": len(ASSIGNABLE), "escalated": len(UNASSIGNABLE),
                      "completed": len(ASSIGNABLE)}
    for routing_key, count in (("request.received", len(valid)), ("assignment.offered", len(ASSIGNABLE)),
                               ("request.assigned", len(ASSIGNABLE)), ("request.completed", len(ASSIGNABLE)),
                               ("request.escalated", len(UNASSIGNABLE))):
        assert len(tap.of(routing_key)) == count, routing_key  # each once, whichever process decided it
    assert {e["external_id"] for e in tap.of("request.completed")} == {r["external_id"] for r in ASSIGNABLE}
    assert await staffed_twice(settings.database_url) == {"tasks_over_staffed": 0,
                                                          "occurrences_with_two_staffed_tasks": 0}
    assert await duplicated_notifications(settings.database_url, [h.body for h in tap.heard]) == 0
    assert len({e["notification_id"] for e in tap.of("notification.sent")}) == len(tap.of("notification.sent"))
    assert all(work.values()), f"a replica did no work: {work}"  # competing consumers really compete
