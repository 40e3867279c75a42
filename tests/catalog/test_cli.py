"""``flask catalog import`` / ``export``."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.audit.models import AuditEvent
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


def test_add_author_creates_an_author_account_then_changes_its_role(app, tmp_path):
    from app.admin.models import Operator
    from app.catalog.models import Author

    source = tmp_path / "catalog.json"
    source.write_text(json.dumps(catalog()), encoding="utf-8")
    runner = app.test_cli_runner()
    runner.invoke(args=["catalog", "import", str(source)])
    args = ["catalog", "add-author", "friday-institute", "Kim@Example.org", "--name", "Kim Lee"]
    first = runner.invoke(args=args, input="a long first password\na long first password\n")
    assert first.exit_code == 0, first.output
    assert "New account kim@example.org writes for Teaching Institute (author)." in first.output
    again = runner.invoke(
        args=["catalog", "add-author", "friday-institute", "kim@example.org", "--role", "admin"]
    )
    assert again.exit_code == 0 and "Account kim@example.org writes" in again.output
    with get_db(app).begin() as session:
        kim = session.scalars(select(Operator).where(Operator.email == "kim@example.org")).one()
        assert kim.is_operator is False
        assert session.scalars(select(Author.role)).all() == ["admin"]
    unknown = runner.invoke(args=["catalog", "add-author", "nowhere", "kim@example.org"])
    assert unknown.exit_code == 1 and "There is no organisation 'nowhere'." in unknown.output
