"""Development tokens: `python -m shared.tokens issue --role community_staff --area c-north`
prints a token that linli accepts when it trusts the development key (LINLI_TOKEN_JWKS_FILE
= deploy/dev-token-jwks.json, as `make run` sets). `python -m shared.tokens keys DIR` makes a
new key pair. A city trusts its own single sign-on instead, and never this key."""
import argparse
import json
import sys
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from shared.identity import Role, caller_of

DEPLOY = Path(__file__).parents[1] / "deploy"
DEV_KEY, DEV_JWKS = DEPLOY / "dev-token-key.pem", DEPLOY / "dev-token-jwks.json"
DEV_ISSUER, AUDIENCE, KEY_ID = "linli-dev", "linli", "linli-dev-1"


def key_pair() -> tuple[bytes, dict]:
    """A new ES256 private key (PEM) and the JWKS that publishes its public half."""
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    return pem, {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "ES256"}]}


def issue(private_pem: bytes, role: str, subject: str, area: str | None = None, source: str | None = None,
          hours: float = 12, issuer: str = DEV_ISSUER, now: float | None = None, locale: str | None = None) -> str:
    """A signed token for one caller, checked against linli's own claim rules first."""
    issued = int(now if now is not None else time.time())
    claims = {"iss": issuer, "aud": AUDIENCE, "sub": subject, "iat": issued, "exp": issued + int(hours * 3600),
              "role": role, **({"area": area} if area else {}), **({"source": source} if source else {}),
              **({"locale": locale} if locale else {})}
    caller_of(claims)  # a token linli would refuse is not worth issuing
    return jwt.encode(claims, private_pem, algorithm="ES256", headers={"kid": KEY_ID})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.tokens", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    issuing = commands.add_parser("issue", help="print a development token")
    issuing.add_argument("--role", required=True, choices=[role.value for role in Role if role != Role.SOURCE])
    issuing.add_argument("--subject", help="who (default: the role); a volunteer: their external id")
    issuing.add_argument("--area", help="the community (community_staff) or street (street_staff) code")
    issuing.add_argument("--source", help="a volunteer's: the system that registered them")
    issuing.add_argument("--hours", type=float, default=12)
    issuing.add_argument("--locale", help="the language the person reads reasons in: en (default: Chinese)")
    issuing.add_argument("--key", type=Path, default=DEV_KEY, help="the private key (PEM)")
    keys = commands.add_parser("keys", help="write a new key pair: dev-token-key.pem, dev-token-jwks.json")
    keys.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.command == "keys":
        pem, jwks = key_pair()
        (args.directory / DEV_KEY.name).write_bytes(pem)
        (args.directory / DEV_JWKS.name).write_text(json.dumps(jwks, indent=2) + "\n")
        return 0
    try:
        print(issue(args.key.read_bytes(), args.role, args.subject or args.role, args.area, args.source, args.hours,
                    locale=args.locale))
    except Exception as error:  # a refused claim or an unreadable key: say which, no traceback
        print(f"no token: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
