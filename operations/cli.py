"""The `linli` command: each group of subcommands lives in its own module and is mounted here."""
import typer

from operations import dlq, identity, rebuild
from operations.simulate import simulate
from operations.status import status

app = typer.Typer(help="Operate linli: status, dead letters, rebuilds, a simulated day, identities.",
                  no_args_is_help=True, add_completion=False)


@app.callback()
def linli() -> None:
    """Operate linli. Each command says what it reads; only `rebuild` reaches a service's tables,
    through that service's own code."""


app.command()(status)
app.command()(simulate)
app.add_typer(dlq.app, name="dlq")
app.add_typer(rebuild.app, name="rebuild")
app.add_typer(identity.tokens, name="token")
app.command("broker-users")(identity.broker_users)
