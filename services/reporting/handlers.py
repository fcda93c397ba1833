"""reporting's handlers: each event is archived once and moves one count once."""
from prometheus_client import Counter

from services.reporting import store
from services.reporting.domain import community_of, counter_of, day_of
from shared.consumer import Envelope, Handler
from shared.events import Event
from shared.service import Runtime

COUNTED = Counter("linli_reporting_events_counted_total", "Events counted into the figures", ["routing_key"])


def counting(event_type: type[Event]) -> Handler:
    """The handler that counts events of `event_type`.

    Two guards, both in the count's transaction: the claim stops a redelivered message, the
    archive's event_id stops the same event re-published under another message id.
    """
    async def count_event(runtime: Runtime, envelope: Envelope) -> None:
        event = event_type.model_validate_json(envelope.body)
        async with runtime.unit_of_work() as uow:
            if not await uow.claim(envelope) or not await store.archive(uow.connection, event):
                return
            day = day_of(event.occurred_at, runtime.settings.linli_timezone)
            await store.count(uow.connection, community_of(event), day, counter_of(event))
        COUNTED.labels(event.routing_key).inc()
    return count_event
