"""Configuration from the environment, with defaults for the local servers."""
from functools import lru_cache

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.roles import service_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    # RabbitMQ. RABBITMQ_URL is the base (host, port, vhost); each service connects as its own
    # user, linli-<service>, with <SERVICE>_RABBITMQ_PASSWORD or else its entry in the JSON file
    # BROKER_USERS_FILE (development: deploy/broker-users.dev.json); with neither, as RABBITMQ_URL's user.
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    intake_rabbitmq_password: str | None = None
    matching_rabbitmq_password: str | None = None
    notify_rabbitmq_password: str | None = None
    reporting_rabbitmq_password: str | None = None
    broker_users_file: str | None = None
    # Where `python -m services broker-users` creates the users when the broker is not local.
    rabbitmq_management_url: str | None = None
    # Development only: the default webhook secret `change-me` is accepted (a service refuses it
    # otherwise), and reporting counts people under a fixed development key.
    linli_development: bool = False
    # PostgreSQL. DATABASE_URL is the owner's: it runs the migrations and grants each service's
    # role, linli_<service>, its own schema; the services work as those roles, on the same
    # server and database, with these passwords (unset: none, for trust or peer authentication).
    database_url: str = "postgresql://postgres@127.0.0.1:5432/linli"
    intake_database_password: str | None = None
    matching_database_password: str | None = None
    notify_database_password: str | None = None
    reporting_database_password: str | None = None
    # False when a DBA creates the service roles: the migrations then only grant them their tables.
    database_manage_roles: bool = True
    # False when a separate step (`python -m services migrate`, a Kubernetes Job) migrates, so
    # that a service holds no owner's credentials: it then needs only its own role's password.
    database_migrate_on_start: bool = True
    host: str = "127.0.0.1"
    intake_port: int = 8001
    matching_port: int = 8002
    notify_port: int = 8003
    reporting_port: int = 8004
    # The day boundary of the station statistics; the city's clock, not the server's.
    linli_timezone: str = "Asia/Shanghai"
    # How many messages each service takes from the broker at once.
    prefetch_count: int = 32
    # Deliveries of one queue handled in one transaction at most (1: each in its own); at most
    # prefetch_count reach a queue's consumer at once anyway.
    consumer_batch_size: int = 32
    # Seconds the outbox relay waits between sweeps when nothing wakes it.
    outbox_poll_seconds: float = 1.0
    # intake: the JSON file of the systems allowed to publish (see services/intake/sources.py),
    # and whether unknown sources are accepted too (development only).
    intake_sources_file: str | None = None
    intake_accept_unknown_sources: bool = False
    # intake: the same beneficiary asking for the same service in the same community from
    # another source within this many hours is the same need, linked rather than dispatched.
    intake_duplicate_window_hours: float = 24.0
    # intake: how long a cancellation that came before its request waits for it (then it is refused).
    intake_cancellation_wait_minutes: float = Field(default=60.0, gt=0)
    # intake: tries of a status update to a publisher's webhook, and the first retry delay (doubling).
    intake_webhook_max_attempts: int = 8
    intake_webhook_retry_base_seconds: float = 2.0
    # matching: seconds a volunteer has to answer an offer (emergencies get the shorter time),
    # and how many volunteers an emergency is offered to at once per place (first to accept wins).
    matching_offer_timeout_seconds: float = 1800.0
    matching_emergency_offer_timeout_seconds: float = 300.0
    matching_emergency_fan_out: int = 3
    # matching: offers and accepted assignments a volunteer may hold at once.
    matching_max_open_assignments: int = 5
    # matching: hours booked for a service whose window does not say (or is longer).
    matching_service_hours: float = 2.0
    # The streets and their communities (JSON, see shared/areas.py): when nobody in a request's
    # community fits, matching searches its street's other communities too; reporting groups by
    # street. LINLI_AREAS_FILE, or MATCHING_AREAS_FILE as before.
    matching_areas_file: str | None = Field(None, validation_alias=AliasChoices(
        "linli_areas_file", "matching_areas_file"))
    matching_widen_to_street: bool = True
    # matching: days from a mediation case's closing to its return visit (回访).
    matching_follow_up_days: float = 7.0
    # matching: hours from its acceptance that an assignment without a window may go unreported;
    # then the volunteer's place is released and the staff are told (request.escalated / case.escalated).
    matching_accepted_deadline_hours: float = 72.0
    # matching: seconds a request (not urgent) that finds every able volunteer busy waits for one
    # to free a place before it is escalated to the community's staff (0: escalated at once).
    matching_wait_for_free_seconds: float = 600.0
    # matching: seconds between the clock's looks for expired offers, missed windows and due visits.
    matching_clock_seconds: float = 1.0
    # matching: tasks of one community staffed together in one decision (burst mode).
    matching_batch_size: int = 50
    # matching: the staff console's "expiring" queue holds the unanswered offers that expire within these minutes.
    matching_expiring_minutes: float = Field(default=30.0, gt=0)
    # notify: an HTTP endpoint that receives every notification, signed with the secret.
    notify_webhook_url: str | None = None
    notify_webhook_secret: str = "change-me"
    # notify: the mail server for email (unset: no email), and the sender address.
    notify_smtp_host: str | None = None
    notify_smtp_port: int = 25
    notify_smtp_sender: str = "linli@localhost"
    # notify: an SMS gateway (HTTP, signed like the webhook) for urgent messages (unset: no SMS).
    notify_sms_url: str | None = None
    notify_sms_secret: str = "change-me"
    notify_max_attempts: int = 5
    # notify: messages that can wait are held in these hours of the city's clock ("" for none);
    # matching gives an offer made in them its answer time from when they end.
    notify_quiet_hours: str = "22:00-07:00"
    # Seconds an outgoing call (notify's webhook, SMS gateway and mail server, intake's status
    # webhooks) may take before it counts as failed; a delivery still 'sending' three times as long
    # was left by a process that died mid-call, and is sent again once (shared/deliveries.py).
    delivery_call_seconds: float = 5.0
    # Seconds before the first retry of a failed delivery; each further retry waits twice as long.
    notify_retry_base_seconds: float = 2.0
    # notify: after an escalation told at once, a community's further escalations within this many
    # seconds are told in one backlog message when the window ends (0: each at once); emergencies
    # always go at once (services/notify/domain/backlog.py).
    notify_staff_digest_seconds: float = Field(default=300.0, ge=0)
    # reporting: open dashboards are told of new figures at most this often (a burst of events,
    # one redraw).
    reporting_live_seconds: float = 5.0
    # reporting: where the staff console's relay finds the services (unset: 127.0.0.1 at the
    # service's port above, as `make run` starts them).
    linli_intake_url: str | None = None
    linli_matching_url: str | None = None
    linli_reporting_url: str | None = None
    # notify: the staff directory (JSON: community or street code -> email, phone, languages).
    notify_staff_file: str | None = None
    # notify: a pending offer is reminded once this long before it expires ("" for never), and a
    # volunteer is reminded these durations before a service window starts ("" for never).
    notify_offer_reminder: str = "10m"
    notify_window_reminders: str = "24h,1h"
    # Privacy (README "Security and privacy"): days after which claimed message ids, published
    # outbox rows, delivered notifications, inbox messages, rejections and sent status updates
    # are pruned, and seconds between the sweeps; reporting's key for counting distinct people
    # (HMAC), required unless LINLI_DEVELOPMENT (then a fixed development key).
    linli_retention_days: float = 30.0
    linli_retention_sweep_seconds: float = 3600.0
    reporting_person_key: str | None = None

    # --- who calls the HTTP APIs (shared/access.py) ---
    # People's tokens (JWT): the issuer and audience they must name, and the issuer's public keys,
    # as a JWKS file (`make run`: deploy/dev-token-jwks.json) or an OIDC provider's jwks_uri.
    # With neither, every token is refused (401).
    linli_token_issuer: str = "linli-dev"
    linli_token_audience: str = "linli"
    linli_token_jwks_file: str | None = None
    linli_token_jwks_url: str | None = None
    # --- end of who calls ---

    @property
    def areas_file(self) -> str | None:
        return self.matching_areas_file

    def port_of(self, service: str) -> int:
        return getattr(self, f"{service}_port")

    def url_of(self, service: str) -> str:
        """The base URL of `service`'s HTTP API (intake, matching, reporting), without a trailing slash."""
        return (getattr(self, f"linli_{service}_url") or f"http://127.0.0.1:{self.port_of(service)}").rstrip("/")

    def database_password_of(self, service: str) -> str | None:
        return getattr(self, f"{service}_database_password", None)

    def rabbitmq_url_of(self, service: str) -> str:
        """Where `service` connects: RABBITMQ_URL's broker and vhost, as the service's own user."""
        from shared.broker_users import load_passwords, url_as, user_of
        user = user_of(service)
        password = (getattr(self, f"{service}_rabbitmq_password", None)
                    or load_passwords(self.broker_users_file).get(user))
        return url_as(self.rabbitmq_url, user, password) if password else self.rabbitmq_url

    def database_url_of(self, service: str) -> str:
        """Where `service` connects: the owner's server and database, as the service's own role."""
        return service_url(self.database_url, service, self.database_password_of(service))


@lru_cache
def get_settings() -> Settings:
    return Settings()
