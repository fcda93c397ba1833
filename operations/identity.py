"""The identity chores: `linli token issue` (what `python -m shared.tokens issue` does, by
calling it) and `linli broker-users` (what `python -m services broker-users` does)."""
import httpx
import typer

from operations.reach import Unreachable, clear_errors
from shared.settings import Settings

tokens = typer.Typer(help="Development tokens and keys (shared/tokens.py).", no_args_is_help=True)


@tokens.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def issue(context: typer.Context):
    """Print a development token: --role ROLE [--subject S] [--area A] [--source S] [--hours H] [--key PEM]."""
    from shared.tokens import main
    raise typer.Exit(main(["issue", *context.args]))


@tokens.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
             add_help_option=False)
def keys(context: typer.Context):
    """Write a new development key pair into a directory: dev-token-key.pem, dev-token-jwks.json."""
    from shared.tokens import main
    raise typer.Exit(main(["keys", *context.args]))


def broker_users():
    """Create the broker's users and their permissions for RABBITMQ_URL's vhost (idempotent)."""
    from services.deployment import ensure_broker_users
    with clear_errors():
        try:
            lines = ensure_broker_users(Settings())
        except (RuntimeError, OSError, httpx.HTTPError) as error:  # rabbitmqctl or the management API refused
            raise Unreachable(f"the broker users were not created: {error}") from error
    typer.echo("\n".join(lines))
