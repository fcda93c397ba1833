"""What `python -m services` does for a deployment: every service's migrations, and the
broker's users and permissions (shared/broker_users.py) for RABBITMQ_URL's vhost."""
from services.intake.app import SERVICE as INTAKE
from services.intake.sources import load_sources
from services.matching.app import SERVICE as MATCHING
from services.notify.app import SERVICE as NOTIFY
from services.reporting.app import SERVICE as REPORTING
from shared.broker_users import apply, definitions, grants, load_passwords, user_of, vhost_of
from shared.database import migrate
from shared.settings import Settings

SERVICES = (INTAKE, MATCHING, NOTIFY, REPORTING)


def migrate_all(settings: Settings) -> list[str]:
    for service in SERVICES:
        migrate(settings.database_url, service.name, service.migrations, settings.database_password_of(service.name),
                settings.database_manage_roles)
    return [f"{service.name}: migrations applied" for service in SERVICES]


def ensure_broker_users(settings: Settings) -> list[str]:
    """Create (or update) every user that has a password, with its permissions, and the
    exchanges, in the vhost of RABBITMQ_URL. Idempotent: run it after every change of the
    sources file. Users are the broker's (its other vhosts keep their permissions)."""
    sources = load_sources(settings.intake_sources_file, False).known.values()
    passwords = load_passwords(settings.broker_users_file)
    for service in SERVICES:
        if password := getattr(settings, f"{service.name}_rabbitmq_password", None):
            passwords[user_of(service.name)] = password
    everyone = grants(SERVICES, sources)
    vhost = vhost_of(settings.rabbitmq_url)
    how = apply(definitions(vhost, everyone, passwords), settings.rabbitmq_url, settings.rabbitmq_management_url)
    return [f"vhost {vhost!r} ({how}):",
            *(f"  {g.user}: created with its permissions" if passwords.get(g.user) else
              f"  {g.user}: NOT created (no password: BROKER_USERS_FILE or <SERVICE>_RABBITMQ_PASSWORD)"
              for g in everyone)]
