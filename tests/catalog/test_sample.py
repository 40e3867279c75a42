"""The team's sample catalog, seeded in the embedded default (issue 6)."""

from __future__ import annotations

import json
from importlib import resources

from app.catalog.cli import seed_sample_catalog
from app.catalog.exchange import export_catalog, schema_problems
from app.db import get_db


def _sample():
    return json.loads(resources.files("app.catalog").joinpath("sample/catalog.json").read_text())


def test_sample_catalog_is_valid_and_big_enough():
    sample = _sample()
    assert schema_problems(sample) == []
    published = [
        c for c in sample["credentials"] if any(v["status"] == "published" for v in c["versions"])
    ]
    assert len(published) >= 8
    assert len(sample["stacks"]) >= 2
    text = json.dumps(sample).lower()
    for placeholder in ("lorem", "ipsum", "todo", "tbd", "xxx"):
        assert placeholder not in text


def test_sample_catalog_seeds_once_and_round_trips(app):
    with get_db(app).begin() as session:
        assert seed_sample_catalog(session) == len(_sample()["credentials"])
    with get_db(app).begin() as session:
        assert seed_sample_catalog(session) == 0  # an existing catalog is left alone
        assert export_catalog(session) == _sample()
