"""`python -m services migrate`: apply the migrations of every service (each service also
applies its own when it starts)."""
import sys

from services.intake.app import SERVICE as INTAKE
from services.matching.app import SERVICE as MATCHING
from services.notify.app import SERVICE as NOTIFY
from services.reporting.app import SERVICE as REPORTING
from shared.database import migrate
from shared.settings import get_settings

SERVICES = (INTAKE, MATCHING, NOTIFY, REPORTING)

if sys.argv[1:] != ["migrate"]:
    sys.exit("usage: python -m services migrate")
settings = get_settings()
for service in SERVICES:
    migrate(settings.database_url, service.name, service.migrations, settings.database_password_of(service.name),
            settings.database_manage_roles)
    print(f"{service.name}: migrations applied")
