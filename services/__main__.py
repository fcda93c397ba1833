"""`python -m services migrate`: apply the migrations of every service (each service also
applies its own when it starts). `python -m services broker-users`: create the broker's users
and their permissions for RABBITMQ_URL's vhost (shared/broker_users.py)."""
import sys

from services.deployment import ensure_broker_users, migrate_all
from shared.settings import get_settings

COMMANDS = {"migrate": migrate_all, "broker-users": ensure_broker_users}

if len(sys.argv) != 2 or sys.argv[1] not in COMMANDS:
    sys.exit("usage: python -m services migrate | broker-users")
print("\n".join(COMMANDS[sys.argv[1]](get_settings())))
