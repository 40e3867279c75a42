"""The tool as gunicorn serves it in the launch benchmark, plus one bare endpoint: the floor.

``POST /bench/verify`` only verifies a posted id_token — signature with the platform's cached
public key, ``aud``, ``exp`` — the least any launch must do, so the full launch's rate can be
compared with it on the same server, in the same run. Only ``bench/launch.py`` serves this
module; the app itself has no such endpoint.
"""

from __future__ import annotations

import json

import jwt
from flask import Response, jsonify, request
from sqlalchemy import select

from app import create_app
from app.db import db_session
from app.lti import runtime
from app.lti.models import Registration

app = create_app()


@app.post("/bench/verify")
def verify() -> Response:
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
