"""The broker topology of the contract: four topic exchanges (`linli.personal`, which only
the services may bind, carries whole the events that name people; see shared/events.py), and for each service queue a
durable quorum queue that dead-letters into its own `<queue>.dlq`.

The exchanges are declared by `python -m services broker-users` (shared/broker_users.py), not
by the services: a service only looks them up (`declare=False`, a passive declare), for it has
no right to configure (or delete) them.

The queue arguments are part of the topology: a queue redeclared with other arguments fails
with PRECONDITION_FAILED, so they are constants here, not settings.
"""
from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

INTAKE = RabbitExchange("linli.intake", type=ExchangeType.TOPIC, durable=True, declare=False)
EVENTS = RabbitExchange("linli.events", type=ExchangeType.TOPIC, durable=True, declare=False)
PERSONAL = RabbitExchange("linli.personal", type=ExchangeType.TOPIC, durable=True, declare=False)
DEAD_LETTERS = RabbitExchange("linli.dlx", type=ExchangeType.TOPIC, durable=True, declare=False)
EXCHANGES = (INTAKE, EVENTS, PERSONAL, DEAD_LETTERS)
# Where an event that no queue is bound for goes (an alternate exchange, set by a policy:
# shared/broker_users.py), instead of vanishing: `linli.unrouted` keeps the public ones (ops may
# read and replay them), `linli.unrouted.personal` the whole ones (only an administrator reads it).
UNROUTED = {EVENTS.name: "linli.unrouted", PERSONAL.name: "linli.unrouted.personal"}

# Deliveries of one message (the first and its retries) before it is dead-lettered.
DELIVERY_LIMIT = 5


def service_queue(name: str, routing_key: str) -> RabbitQueue:
    """A service's work queue, bound by `routing_key`; its dead letters go to `<name>.dlq`."""
    return RabbitQueue(
        name,
        queue_type=QueueType.QUORUM,
        durable=True,
        routing_key=routing_key,
        arguments={
            "x-dead-letter-exchange": DEAD_LETTERS.name,
            "x-dead-letter-routing-key": name,
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def dead_letter_queue(name: str) -> RabbitQueue:
    return RabbitQueue(f"{name}.dlq", queue_type=QueueType.QUORUM, durable=True, routing_key=name)
