"""`python -m services run [SERVICE …] [--replicas N]`: the four services as processes (N of
each, competing for the same queues), supervised (restarted when one dies; services/supervisor.py).
`python -m services migrate`: apply the migrations of every service (each service also applies
its own when it starts). `python -m services broker-users`: create the broker's users
and their permissions for RABBITMQ_URL's vhost (shared/broker_users.py).

`python -m services erase --by WHO (--phone PHONE | --request SOURCE EXTERNAL_ID | --volunteer
SOURCE EXTERNAL_ID)`: have a person's personal data erased (PIPL art. 47). It publishes a
`person.erase` on `linli.intake` (as staff or ops tooling; the broker user needs that right);
intake answers with `person.erased`, and every service with `erasure.done` on `linli.events`."""
import argparse
import asyncio
import json
import sys
import uuid

import aio_pika

from services import supervisor
from services.deployment import ensure_broker_users, migrate_all
from shared.settings import get_settings
from shared.submissions import PersonErasure


async def publish_erasure(rabbitmq_url: str, erasure: PersonErasure) -> str:
    """Publish the erasure as staff tooling does; returns its message id (the correlation id of what follows)."""
    message_id = str(uuid.uuid4())
    async with await aio_pika.connect(rabbitmq_url) as connection:
        channel = await connection.channel(publisher_confirms=True)
        intake = await channel.get_exchange("linli.intake")  # the broker users command declared it
        await intake.publish(aio_pika.Message(erasure.model_dump_json(exclude_none=True).encode(),
                                              content_type="application/json", message_id=message_id,
                                              delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                             routing_key="person.erase")
    return message_id


def _erase(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m services erase", description="Erase a person's personal data.")
    parser.add_argument("--by", required=True, help="who asks (the member of staff or ops), for the record")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="a resident, by the phone their requests gave")
    who.add_argument("--request", nargs=2, metavar=("SOURCE", "EXTERNAL_ID"), help="the resident of a request")
    who.add_argument("--volunteer", nargs=2, metavar=("SOURCE", "EXTERNAL_ID"), help="a volunteer")
    args = parser.parse_args(argv)
    key = lambda pair: {"source": pair[0], "external_id": pair[1]} if pair else None  # noqa: E731
    erasure = PersonErasure(requested_by=args.by, phone=args.phone, request=key(args.request),
                            volunteer=key(args.volunteer))
    message_id = asyncio.run(publish_erasure(get_settings().rabbitmq_url, erasure))
    print(json.dumps({"published": "person.erase", "message_id": message_id,
                      "follow": "erasure.done events with this correlation_id"}))


COMMANDS = {"migrate": migrate_all, "broker-users": ensure_broker_users}

if __name__ == "__main__":
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else (None, [])
    if command in COMMANDS and not rest:
        print("\n".join(COMMANDS[command](get_settings())))
    elif command == "erase":
        _erase(rest)
    elif command == "run":
        sys.exit(supervisor.main(rest))
    else:
        sys.exit("usage: python -m services run [SERVICE ...] [--replicas N] | migrate | broker-users | erase --by WHO "
                 "(--phone PHONE | --request SOURCE EXTERNAL_ID | --volunteer SOURCE EXTERNAL_ID)")
