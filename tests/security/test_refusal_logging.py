"""Every rejection is logged with its reason, and never with the token or a key (issue 4)."""

from __future__ import annotations

import json

from app.db import get_db
from app.devlms.seed import seed_demo
from tests.support.forge import Forge, foreign_key_pem
from tests.support.live import live_servers


def test_refused_launch_is_logged_with_its_reason_and_without_the_token(settings_override, capsys):
    with live_servers({**settings_override, "MICROCRED_LOG_LEVEL": "INFO"}) as live:
        with get_db(live.tool).begin() as session:
            seed_demo(session, live.tool.config["MICROCRED_SETTINGS"])
        forge = Forge(live)
        pending = forge.start()
        forged = forge.sign(pending.claims, key_pem=foreign_key_pem())
        assert pending.post(forged).status_code == 400
    out = capsys.readouterr().out
    entries = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    refusal = next(e for e in entries if e["msg"] == "launch refused")
    assert refusal["error_code"] == "bad_signature"
    assert refusal["request_id"]
    assert forged not in out and forged.split(".")[1] not in out
    assert "PRIVATE KEY" not in out
    assert pending.state not in out
