"""``flask catalog import`` / ``export``."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.admin.models import AuditEvent
from app.db import get_db
from tests.catalog.test_exchange import catalog


def test_import_then_export_through_the_cli(app, tmp_path):
    source = tmp_path / "catalog.json"
    source.write_text(json.dumps(catalog()), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["catalog", "import", str(source)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 organisation(s), 2 credential(s) (2 new version(s)" in result.output
    exported = runner.invoke(args=["catalog", "export"])
    assert json.loads(exported.output) == catalog()
    target = tmp_path / "out.json"
    assert runner.invoke(args=["catalog", "export", str(target)]).exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8")) == catalog()
    with get_db(app).begin() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["catalog.imported"]


def test_import_lists_every_problem_and_writes_nothing(app, tmp_path):
    document = catalog()
    document["credentials"][0]["versions"][0]["criteria"][0]["part"] = "missing"
    document["stacks"][0]["credentials"].append("ghost")
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["catalog", "import", str(source)])
    assert result.exit_code == 1
    assert "credentials[0].versions[0].criteria[0].part: no part 'missing'" in result.output
    assert "stacks[0].credentials[1]: no credential 'ghost'" in result.output
    assert "2 problem(s)" in result.output and "nothing was imported" in result.output


def test_import_of_a_file_that_is_not_json_says_where(app, tmp_path):
    source = tmp_path / "broken.json"
    source.write_text('{"format": ', encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["catalog", "import", str(source)])
    assert result.exit_code == 1
    assert "is not JSON" in result.output and "line 1" in result.output
    missing = app.test_cli_runner().invoke(args=["catalog", "import", str(tmp_path / "none.json")])
    assert missing.exit_code == 1 and "Cannot read" in missing.output
