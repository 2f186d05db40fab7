#!/usr/bin/env python3
"""Short-term Amazon Bedrock API key test vectors from AWS's own generator.

Produces tests/vectors/bedrock-tokens.json: for fixed inputs (credentials, Region, signing
time, expiry) the exact token that AWS's official Python generator returns. The Rust
generator in harness/bedrock is tested against this file byte for byte.

Pinned versions (the script refuses to run with any others, so the file cannot drift silently):
    aws-bedrock-token-generator == 1.1.0
    botocore                    == 1.44.8   (does the actual SigV4 signing)

Rerun from the repository root:
    python3 -m venv /tmp/btg-venv
    /tmp/btg-venv/bin/pip install aws-bedrock-token-generator==1.1.0 botocore==1.44.8
    /tmp/btg-venv/bin/python tests/vectors/generate_bedrock_tokens.py

The credentials are the example credentials from the AWS documentation, not secrets.

How the clock is frozen: botocore's SigV4QueryAuth.add_auth reads the time through the name
`get_current_datetime` that botocore.auth imports from botocore.compat, so patching
`botocore.auth.get_current_datetime` fixes X-Amz-Date (a naive datetime in UTC, as botocore
itself returns).
"""

import base64
import datetime
import importlib.metadata
import itertools
import json
import pathlib
import sys
from unittest import mock

PINNED = {"aws-bedrock-token-generator": "1.1.0", "botocore": "1.44.8"}

for package, wanted in PINNED.items():
    found = importlib.metadata.version(package)
    if found != wanted:
        sys.exit(f"{package} is {found}, this script is pinned to {wanted}; see the header")

import botocore.auth  # noqa: E402  (imported after the version check on purpose)
from botocore.credentials import Credentials  # noqa: E402

from aws_bedrock_token_generator import provide_token  # noqa: E402

OUT = pathlib.Path(__file__).with_name("bedrock-tokens.json")

# Long-term credentials from the IAM user guide, and temporary ones in the shape of the STS
# AssumeRole documentation example. The session token is a made-up example value that
# contains `+`, `/` and `=` so that percent-encoding of the token is exercised.
CREDENTIALS = [
    {
        "name": "permanent",
        "access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "session_token": None,
    },
    {
        "name": "temporary",
        "access_key_id": "ASIAIOSFODNN7EXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
        "session_token": (
            "IQoJb3JpZ2luX2VjEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXm"
            "xfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKs"
            "burEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD"
            "0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/o"
            "LxBA=="
        ),
    },
]

REGIONS = ["us-east-1", "us-west-2", "eu-central-1", "ap-northeast-1", "us-gov-west-1"]

# A plain midnight, the last second of a year (scope date and X-Amz-Date must agree), and a
# leap day.
SIGNING_TIMES = [
    datetime.datetime(2025, 7, 1, 0, 0, 0),
    datetime.datetime(2025, 12, 31, 23, 59, 59),
    datetime.datetime(2024, 2, 29, 12, 34, 56),
]

# The generator accepts (0, 43200] seconds: both ends, and two values in between.
EXPIRIES = [1, 900, 3600, 43200]


class StaticProvider:
    """The smallest credential provider provide_token accepts: anything with load()."""

    def __init__(self, credentials):
        self._credentials = credentials

    def load(self):
        return self._credentials


def make_token(creds, region, signing_time, expires_in):
    provider = StaticProvider(
        Credentials(creds["access_key_id"], creds["secret_access_key"], creds["session_token"])
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=signing_time):
        return provide_token(
            region=region,
            aws_credentials_provider=provider,
            expiry=datetime.timedelta(seconds=expires_in),
        )


def main():
    if not hasattr(botocore.auth, "get_current_datetime"):
        sys.exit("botocore.auth no longer reads the clock through get_current_datetime")

    vectors = []
    # The full cross product would be 120 vectors; every Region with every credential and
    # expiry, but the signing times cycled, keeps each dimension covered in 40.
    combos = itertools.product(CREDENTIALS, REGIONS, EXPIRIES)
    for index, (creds, region, expires_in) in enumerate(combos):
        signing_time = SIGNING_TIMES[index % len(SIGNING_TIMES)]
        token = make_token(creds, region, signing_time, expires_in)
        unix = int(signing_time.replace(tzinfo=datetime.timezone.utc).timestamp())
        vectors.append(
            {
                "name": f"{creds['name']}-{region}-{expires_in}s-{signing_time:%Y%m%dT%H%M%SZ}",
                "access_key_id": creds["access_key_id"],
                "secret_access_key": creds["secret_access_key"],
                "session_token": creds["session_token"],
                "region": region,
                "signing_time": signing_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "signing_time_unix": unix,
                "expires_in": expires_in,
                "token": token,
                "decoded": base64.b64decode(token[len("bedrock-api-key-"):]).decode("utf-8"),
            }
        )

    document = {
        "generator": {
            "package": "aws-bedrock-token-generator",
            "version": PINNED["aws-bedrock-token-generator"],
            "botocore": PINNED["botocore"],
            "entry_point": "aws_bedrock_token_generator.provide_token",
        },
        "regenerate": "python3 tests/vectors/generate_bedrock_tokens.py (see its header)",
        "note": "AWS documentation example credentials; not secrets.",
        "vectors": vectors,
    }
    OUT.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {OUT}")


if __name__ == "__main__":
    main()
