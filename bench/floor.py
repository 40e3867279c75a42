"""The tool as gunicorn serves it in the launch benchmark, plus one bare endpoint: the floor.

``POST /bench/verify`` only verifies a posted id_token — signature with the platform's cached
public key, ``aud``, ``exp`` — the least any launch must do, so the full launch's rate can be
compared with it on the same server, in the same run. Only ``bench/launch.py`` serves this
(``bench.floor:create_floor_app()``) and ``tests/support/launch_cpu.py`` adds the endpoint to the
tool it measures; the app itself has no such endpoint.
"""

from __future__ import annotations

import json

import jwt
from flask import Flask, Response, jsonify, request
from sqlalchemy import select

from app import create_app
from app.db import db_session
from app.lti import runtime
from app.lti.models import Registration


def verify() -> Response:
    """Verify the posted id_token and answer its ``sub``."""
    token = request.form["id_token"]
    registration = db_session().scalars(select(Registration)).one()
    keyset = runtime().platform_keys().get(registration.key_set_url)
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in keyset["keys"] if k["kid"] == kid)
    key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
    claims = jwt.decode(
        token, key, algorithms=["RS256"], audience=registration.client_id, leeway=60
    )
    return jsonify({"sub": claims.get("sub")})


def add_floor(tool: Flask) -> Flask:
    """Give the tool the floor's endpoint (before it serves its first request)."""
    tool.add_url_rule("/bench/verify", view_func=verify, methods=["POST"])
    return tool


def create_floor_app() -> Flask:
    """The tool, configured from the environment, with the floor's endpoint."""
    return add_floor(create_app())
