"""`linli token issue` is `python -m shared.tokens issue`: the same token rules, the same errors."""
import json

import jwt
from typer.testing import CliRunner

from operations.cli import app
from shared.tokens import AUDIENCE, DEV_JWKS


def test_linli_token_issue_signs_a_development_token_with_the_development_key():
    result = CliRunner().invoke(app, ["token", "issue", "--role", "community_staff", "--area", "c-north"])
    assert result.exit_code == 0, result.output
    [key] = jwt.PyJWKSet.from_dict(json.loads(DEV_JWKS.read_text())).keys
    claims = jwt.decode(result.stdout.strip(), key.key, algorithms=["ES256"], audience=AUDIENCE)
    assert (claims["role"], claims["area"]) == ("community_staff", "c-north")


def test_a_token_linli_would_refuse_is_not_issued_and_says_why():
    result = CliRunner().invoke(app, ["token", "issue", "--role", "community_staff"])  # staff need an area
    assert result.exit_code == 2 and result.stderr.startswith("no token:") and "Traceback" not in result.output
