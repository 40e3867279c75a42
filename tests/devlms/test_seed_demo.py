"""The demo seed: its graded activity is shaped as Deep Linking makes one, naming a credential
of the sample catalog, and a demo course seeded before that is repaired by seeding again."""

from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevLineItem, DevLink
from app.devlms.seed import DEMO_CREDENTIAL, seed_demo

GRADED = "Micro-credential: Formative Assessment"


def graded(live) -> tuple[DevLink, DevLineItem]:
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == GRADED)).one()
        column = session.get(DevLineItem, link.line_item_id)
        session.expunge_all()
        return link, column


def test_the_graded_demo_activity_names_a_sample_catalog_credential(live):
    link, column = graded(live)
    assert link.custom == {"microcred_credential": DEMO_CREDENTIAL, "microcred_version": "latest"}
    assert (column.resource_id, column.tag) == (DEMO_CREDENTIAL, "microcred")
    sample = json.loads(
        resources.files("app.catalog").joinpath("sample/catalog.json").read_text("utf-8")
    )
    assert DEMO_CREDENTIAL in {c["slug"] for c in sample["credentials"]}


def test_seeding_again_repairs_the_graded_activity_of_an_older_demo(live):
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == GRADED)).one()
        link.custom = {"credential": "demo-formative-assessment"}
        session.get(DevLineItem, link.line_item_id).resource_id = "demo-formative-assessment"
    with get_db(live.tool).begin() as session:
        seed_demo(session, live.tool.config["MICROCRED_SETTINGS"])
    link, column = graded(live)
    assert link.custom["microcred_credential"] == DEMO_CREDENTIAL
    assert column.resource_id == DEMO_CREDENTIAL
