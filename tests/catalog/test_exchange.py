"""The catalog file format: schema errors that name the field, meaning checks, import/export
round trip, and published versions that never change (issue 6)."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from sqlalchemy import func, select

from app.catalog.exchange import CatalogInvalid, export_catalog, import_catalog
from app.catalog.models import Credential, CredentialVersion, PublishedVersionChanged
from app.db import get_db
from tests.support.images import png

PNG_200PX = base64.b64encode(png(200, 200)).decode()


def version(number: int = 1, status: str = "published", **changes):
    data = {
        "number": number,
        "status": status,
        "title": "Formative questioning",
        "short_description": "Plan and use questions that reveal what students understand.",
        "competency": "The educator plans questions that surface student thinking.",
        "key_method": "Hinge questions at a lesson's turning point.",
        "parts": [
            {
                "key": "overview",
                "title": "Overview questions",
                "guidance": "Answer in **300 words** or fewer.",
                "evidence_kinds": ["text"],
                "word_limit": 300,
                "required": True,
            },
            {
                "key": "artifact",
                "title": "Lesson plan",
                "guidance": "Upload the plan with the hinge question marked.",
                "evidence_kinds": ["file", "link"],
                "required": True,
            },
        ],
        "criteria": [
            {
                "key": "purpose",
                "part": "overview",
                "title": "Purpose",
                "pass_descriptor": "Explains what the question reveals.",
            },
            {
                "key": "plan",
                "part": "artifact",
                "title": "Planned question",
                "pass_descriptor": "The plan places a hinge question and a response.",
            },
        ],
        "tags": ["assessment"],
        "estimated_hours": 8,
    }
    if status != "draft":
        data["published_at"] = "2026-09-01T00:00:00Z"
    data.update(changes)
    return data


def catalog(**changes):
    document = {
        "format": "microcred-catalog/1",
        "organisations": [
            {
                "slug": "friday-institute",
                "name": "Teaching Institute",
                "url": "https://institute.example.edu",
                "email": "badges@institute.example.edu",
                "image": {"media_type": "image/png", "data": PNG_200PX},
            }
        ],
        "credentials": [
            {
                "slug": "formative-questioning",
                "organisation": "friday-institute",
                "versions": [version()],
            },
            {
                "slug": "feedback",
                "organisation": "friday-institute",
                "versions": [version(title="Feedback that moves learning")],
            },
        ],
        "stacks": [
            {
                "slug": "assessment",
                "organisation": "friday-institute",
                "title": "Assessment for learning",
                "description": "Two credentials.",
                "credentials": ["formative-questioning"],
                "milestone": "feedback",
            }
        ],
    }
    document.update(changes)
    return document


def _problems(app, document):
    with get_db(app).begin() as session, pytest.raises(CatalogInvalid) as raised:
        import_catalog(session, document)
    return raised.value.problems


def test_import_then_export_gives_the_same_document(app):
    document = catalog()
    with get_db(app).begin() as session:
        import_catalog(session, copy.deepcopy(document))
    with get_db(app).begin() as session:
        exported = export_catalog(session)
    assert exported == document
    # And the export imports into an empty catalog to the same export again, byte for byte.
    text = json.dumps(exported, indent=2)
    with get_db(app).begin() as session:
        import_catalog(session, json.loads(text))  # re-importing is idempotent
    with get_db(app).begin() as session:
        assert json.dumps(export_catalog(session), indent=2) == text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["credentials"][0]["versions"][0].pop("title"),
            "credentials[0].versions[0]: 'title' is missing",
        ),
        (
            lambda d: d["credentials"][0].update(slug="Not A Slug"),
            "credentials[0].slug: 'Not A Slug' is not a slug",
        ),
        (
            lambda d: d["credentials"][0]["versions"][0]["parts"][0].update(
                evidence_kinds=["video"]
            ),
            "credentials[0].versions[0].parts[0].evidence_kinds[0]: 'video' is not one of",
        ),
        (
            lambda d: d["organisations"][0].update(colour="red"),
            "organisations[0]: unknown field(s) ('colour' was unexpected)",
        ),
        (lambda d: d["organisations"][0].update(url="ftp://x"), "organisations[0].url"),
        (lambda d: d.update(format="other"), "format: 'microcred-catalog/1' was expected"),
    ],
)
def test_schema_errors_name_the_field(app, change, expected):
    document = catalog()
    change(document)
    problems = _problems(app, document)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["credentials"][0]["versions"][0]["criteria"][1].update(part="video"),
            "credentials[0].versions[0].criteria[1].part: no part 'video' in this version "
            "(parts: overview, artifact)",
        ),
        (
            lambda d: d["credentials"][0]["versions"].append(version(number=3)),
            "credentials[0].versions[1].number: expected 2",
        ),
        (
            lambda d: d["credentials"][0]["versions"].insert(0, version(status="draft")),
            "credentials[0].versions[0].status: only the last version may be a draft",
        ),
        (
            lambda d: d["credentials"][0].update(organisation="nobody"),
            "credentials[0].organisation: no organisation 'nobody'",
        ),
        (
            lambda d: d["stacks"][0]["credentials"].append("ghost"),
            "stacks[0].credentials[1]: no credential 'ghost'",
        ),
        (
            lambda d: d["stacks"][0]["credentials"].append("feedback"),
            "stacks[0].milestone: 'feedback' is also in the stack's credentials",
        ),
        (
            lambda d: d["credentials"][0]["versions"][0].update(
                passing_rule={"kind": "at_least", "count": 5}
            ),
            "credentials[0].versions[0].passing_rule.count: give a number from 1 to 2",
        ),
        (
            lambda d: d["credentials"].append(copy.deepcopy(d["credentials"][0])),
            "credentials[2].slug: 'formative-questioning' appears twice",
        ),
    ],
)
def test_meaning_errors_name_the_field(app, change, expected):
    document = catalog()
    change(document)
    problems = _problems(app, document)
    assert any(p.startswith(expected) for p in problems), problems


def test_a_file_with_problems_writes_nothing(app):
    document = catalog()
    document["stacks"][0]["credentials"].append("ghost")
    _problems(app, document)
    with get_db(app).begin() as session:
        assert session.scalar(select(func.count()).select_from(Credential)) == 0


def test_a_published_version_cannot_change_by_import(app):
    with get_db(app).begin() as session:
        import_catalog(session, catalog())
    changed = catalog()
    changed["credentials"][0]["versions"][0]["competency"] = "Something else."
    problems = _problems(app, changed)
    assert problems == [
        "credentials[0].versions[0]: version 1 of 'formative-questioning' is published and "
        "cannot change; add it as a new version"
    ]
    # The way to change it: a new version.
    changed["credentials"][0]["versions"] = [
        version(),
        version(number=2, status="draft", competency="Something else."),
    ]
    with get_db(app).begin() as session:
        summary = import_catalog(session, changed)
    assert summary.versions_added == 1


def test_a_published_version_cannot_change_in_the_database(app):
    with get_db(app).begin() as session:
        import_catalog(session, catalog())
    with get_db(app).begin() as session:
        row = session.scalars(select(CredentialVersion)).first()
        row.content = {**row.content, "competency": "changed"}
        with pytest.raises(PublishedVersionChanged, match="content cannot change"):
            session.flush()
        session.rollback()
        row = session.scalars(select(CredentialVersion)).first()
        row.status = CredentialVersion.RETIRED  # retiring is allowed
        session.flush()


def test_a_draft_can_change_and_be_published_by_import(app):
    document = catalog()
    document["credentials"][0]["versions"] = [version(status="draft")]
    with get_db(app).begin() as session:
        import_catalog(session, document)
    document["credentials"][0]["versions"] = [version(status="draft", competency="Better.")]
    with get_db(app).begin() as session:
        assert import_catalog(session, document).versions_changed == 1
    document["credentials"][0]["versions"] = [version(competency="Better.")]
    with get_db(app).begin() as session:
        import_catalog(session, document)
        row = session.scalars(
            select(CredentialVersion)
            .join(Credential)
            .where(Credential.slug == "formative-questioning")
        ).one()
        assert (row.status, row.content["competency"]) == ("published", "Better.")


def test_an_unfinished_draft_round_trips_but_a_published_version_must_be_complete(app):
    """A draft keeps whatever an author has written so far; publishing needs every field."""
    unfinished = {"number": 1, "status": "draft", "title": "Talk moves"}
    document = catalog(
        credentials=[
            {"slug": "talk-moves", "organisation": "friday-institute", "versions": [unfinished]}
        ],
        stacks=[],
    )
    with get_db(app).begin() as session:
        import_catalog(session, copy.deepcopy(document))
    with get_db(app).begin() as session:
        assert export_catalog(session) == document
    incomplete = {"number": 1, "status": "published", "title": "Talk moves"}
    incomplete["published_at"] = "2026-09-01T00:00:00Z"
    problems = _problems(
        app,
        catalog(
            credentials=[
                {
                    "slug": "talk-moves-2",
                    "organisation": "friday-institute",
                    "versions": [incomplete],
                }
            ],
            stacks=[],
        ),
    )
    assert "credentials[0].versions[0]: 'competency' is missing" in problems
