"""The bare floor: a minimal Flask app, outside Microcred, that verifies one posted id_token.

``bench/launch.py`` serves it under its own gunicorn (``bench.bare_floor:app``) beside the tool,
so that a launch's CPU can be told in units that do not depend on the machine: what the least
LTI tool must spend on the one request that carries the id_token. It does what the in-app floor
(``bench/floor.py``) does — take the platform's key by ``kid`` from its JWKS (fetched once), parse
it, check signature, ``aud`` and ``exp`` with PyJWT — and nothing of Microcred: no database, no
settings, no logging, no after-request hooks. The gap between the two floors is the tool's
per-request overhead.

    BARE_FLOOR_JWKS_URL=… BARE_FLOOR_AUDIENCE=… gunicorn bench.bare_floor:app
"""

from __future__ import annotations

import json
import os
from typing import Any

import jwt
import requests
from flask import Flask, jsonify, request

app = Flask(__name__)
_keys: dict[str, dict[str, Any]] = {}


def _jwk(kid: str) -> dict[str, Any]:
    """The platform's key ``kid`` from its JWKS, fetched on first use and kept."""
    if not _keys:
        keyset = requests.get(os.environ["BARE_FLOOR_JWKS_URL"], timeout=30).json()
        _keys.update({key["kid"]: key for key in keyset["keys"]})
    return _keys[kid]


@app.post("/verify")
def verify() -> Any:
    token = request.form["id_token"]
    jwk = _jwk(jwt.get_unverified_header(token)["kid"])
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    claims = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=os.environ["BARE_FLOOR_AUDIENCE"],
        leeway=60,
    )
    return jsonify({"sub": claims.get("sub")})


@app.get("/")
def up() -> str:
    return "up"
