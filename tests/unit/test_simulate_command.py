"""`linli simulate` refuses bad options before it connects to anything: a clear message, exit code 2."""
import pytest
from typer.testing import CliRunner

from operations.cli import app


@pytest.mark.parametrize("options, says", [
    (["--communities", "bad code!"], "--communities"),
    (["--communities", ","], "name at least one community"),
    (["--accept", "0.9", "--decline", "0.5"], "add up to 1 at most"),
    (["--case-share", "2"], "--case-share"),
])
def test_bad_options_are_refused_before_connecting(options, says):
    result = CliRunner().invoke(app, ["simulate", *options], env={"RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:1/"})
    assert result.exit_code == 2
    assert says in " ".join(result.output.replace("│", " ").split())
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
