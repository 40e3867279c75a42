"""Tenant isolation (issue 5): a request acting for one platform sees only that platform's rows,
and every route that takes an id is checked with another platform's ids."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.db import get_db
from app.lti.models import Deployment, LtiContext, LtiResourceLink, LtiUser, Registration
from app.tenancy import ALL_PLATFORMS, scope_to_platform


def _platform(session, name: str) -> dict[str, int]:
    registration = Registration(
        name=name,
        issuer=f"https://{name}.example",
        client_id="c",
        auth_login_url=f"https://{name}.example/auth",
        auth_token_url=f"https://{name}.example/token",
        key_set_url=f"https://{name}.example/jwks",
    )
    session.add(registration)
    session.flush()
    deployment = Deployment(registration_id=registration.id, deployment_id="1", status="active")
    user = LtiUser(registration_id=registration.id, sub=f"{name}-user", name=f"{name} person")
    session.add_all([deployment, user])
    session.flush()
    context = LtiContext(
        registration_id=registration.id, deployment_id=deployment.id, context_id="course"
    )
    session.add(context)
    session.flush()
    link = LtiResourceLink(
        registration_id=registration.id, context_id=context.id, resource_link_id="l"
    )
    session.add(link)
    session.flush()
    return {
        "registration": registration.id,
        "user": user.id,
        "context": context.id,
        "link": link.id,
        "deployment": deployment.id,
    }


@pytest.fixture
def two_platforms(app):
    db = get_db(app)
    with db.begin() as session:
        a, b = _platform(session, "alpha"), _platform(session, "beta")
    return db, a, b


def test_a_scoped_session_sees_only_its_platforms_rows(two_platforms):
    db, a, b = two_platforms
    with db.session_factory() as session:
        scope_to_platform(session, a["registration"])
        assert [u.sub for u in session.scalars(select(LtiUser))] == ["alpha-user"]
        assert session.get(LtiUser, b["user"]) is None
        assert session.get(LtiContext, b["context"]) is None
        assert session.get(Deployment, b["deployment"]) is None
        joined = session.scalars(
            select(LtiResourceLink).join(LtiContext).where(LtiContext.context_id == "course")
        ).all()
        assert [link.id for link in joined] == [a["link"]]


def test_the_cached_criterion_follows_each_sessions_platform(two_platforms):
    """The criterion is built once and cached; the platform must be a parameter of it, not a
    value frozen into the cache by the first session that used it."""
    db, a, b = two_platforms
    for scope, expected in ((a, "alpha-user"), (b, "beta-user"), (a, "alpha-user")):
        with db.session_factory() as session:
            scope_to_platform(session, scope["registration"])
            assert [u.sub for u in session.scalars(select(LtiUser))] == [expected]


def test_a_scoped_bulk_update_touches_only_its_platform(two_platforms):
    db, a, _ = two_platforms
    with db.begin() as session:
        scope_to_platform(session, a["registration"])
        session.execute(update(LtiUser).values(name="renamed"))
    with db.begin() as session:
        names = {sub: name for sub, name in session.execute(select(LtiUser.sub, LtiUser.name))}
    assert names == {"alpha-user": "renamed", "beta-user": "beta person"}


def test_looking_across_platforms_must_be_asked_for(two_platforms):
    db, a, _ = two_platforms
    with db.session_factory() as session:
        scope_to_platform(session, a["registration"])
        everyone = session.scalars(select(LtiUser).execution_options(**{ALL_PLATFORMS: True})).all()
        assert {u.sub for u in everyone} == {"alpha-user", "beta-user"}


def test_an_unscoped_session_is_the_operators_view(two_platforms):
    db, _, _ = two_platforms
    with db.session_factory() as session:
        assert len(session.scalars(select(LtiUser)).all()) == 2


# Route parameters that do not name LMS-owned rows, and why.
NOT_TENANT_IDS = {
    "filename": "static files",
    "token": "a one-time registration link's secret, checked by digest",
    "slug": "catalog credentials and stacks, shared by every platform",
    "digest": "a catalog image's content digest (SHA-256), not a platform id; images are public",
    "ext": "the file extension of an image's address (png or svg)",
    "public_id": "a badge's random public id: its pages are public to anyone with the link; "
    "the earner's own actions check the signed-in educator (tests/badges/test_mine.py)",
    "multibase": "an issuer's public key, published to anyone",
    "list_id": "an issuer's revocation status list, published to anyone",
    "number": "a credential version's number (with its slug), shared by every platform",
    "file_id": "an evidence file, served only when the badge's earner made it public on that "
    "badge (tests/badges/test_views.py)",
}
# Blueprints whose users act for no single platform, and why.
NOT_PLATFORM_SCOPED = {
    "admin": "the operator console: operators manage every platform, signed in apart from LTI",
    "authoring": "the console's catalog authoring: issuer organisations write for every "
    "platform, signed in apart from LTI; checked per organisation in tests/catalog",
    "stack_authoring": "the console's stack authoring: as authoring, checked per organisation "
    "in tests/catalog/test_stack_authoring.py",
    "grading_admin": "the console's review pages (assessor grants, turnaround, calibration): "
    "across every platform, signed in apart from LTI; checked per organisation in "
    "tests/grading/test_admin_views.py",
    "badges_admin": "the console's badge pages: across every platform, signed in apart from "
    "LTI; revocation checked per organisation in tests/badges/test_views.py",
}
# endpoint -> builds the URL for platform A's session with platform B's ids (add new routes here).
TENANT_ROUTES: dict[str, object] = {
    # Visited with another platform's attempt and link ids in
    # tests/evidence/test_workspace.py::test_another_platforms_attempt_is_not_found.
    "evidence.save_answer_json": lambda ids: f"/work/attempts/{ids['attempt']}/answers/overview",
    "evidence.save_answer_form": lambda ids: f"/work/attempts/{ids['attempt']}/answers/overview",
    "evidence.add_link": lambda ids: f"/work/attempts/{ids['attempt']}/links",
    "evidence.remove_link": lambda ids: (
        f"/work/attempts/{ids['attempt']}/links/{ids['link']}/remove"
    ),
    "evidence.confirm_submit": lambda ids: f"/work/attempts/{ids['attempt']}/submit",
    "evidence.submit": lambda ids: f"/work/attempts/{ids['attempt']}/submit",
    "evidence.next_attempt": lambda ids: f"/work/attempts/{ids['attempt']}/next",
    # Visited with another platform's (and another person's) export id in tests/privacy/
    # test_prepared.py::test_someone_elses_prepared_export_is_not_theirs_to_download.
    "privacy.download_prepared": lambda ids: f"/my/records/exports/{ids['export']}",
    # Visited with another platform's submitted attempt in
    # tests/grading/test_views.py::test_another_platforms_submission_is_not_found.
    "grading.review_page": lambda ids: f"/review/attempts/{ids['attempt']}",
    "grading.submission": lambda ids: f"/submissions/{ids['attempt']}",
    "grading.claim": lambda ids: f"/review/attempts/{ids['attempt']}/claim",
    "grading.release": lambda ids: f"/review/attempts/{ids['attempt']}/release",
    "grading.save_draft_json": lambda ids: f"/review/attempts/{ids['attempt']}/draft",
    "grading.save_form": lambda ids: f"/review/attempts/{ids['attempt']}/save",
    "grading.confirm": lambda ids: f"/review/attempts/{ids['attempt']}/decide",
    "grading.decide": lambda ids: f"/review/attempts/{ids['attempt']}/decide",
    # Visited with another platform's attempt and file ids in
    # tests/evidence/test_file_views.py::test_another_platforms_attempt_and_files_are_not_found.
    "evidence_files.start": lambda ids: (
        f"/api/evidence/attempts/{ids['attempt']}/parts/artifact/files"
    ),
    "evidence_files.status": lambda ids: f"/api/evidence/files/{ids['file']}",
    "evidence_files.chunk": lambda ids: f"/api/evidence/files/{ids['file']}/content",
    "evidence_files.complete": lambda ids: f"/api/evidence/files/{ids['file']}/complete",
    "evidence_files.remove": lambda ids: f"/api/evidence/files/{ids['file']}",
    "evidence_files.download": lambda ids: f"/evidence/files/{ids['file']}/download",
    "evidence_files.files_page": lambda ids: (
        f"/work/attempts/{ids['attempt']}/parts/artifact/files"
    ),
    "evidence_files.upload_form": lambda ids: (
        f"/work/attempts/{ids['attempt']}/parts/artifact/files"
    ),
    "evidence_files.confirm_remove": lambda ids: f"/work/files/{ids['file']}/remove",
    "evidence_files.remove_form": lambda ids: f"/work/files/{ids['file']}/remove",
}


def test_every_route_with_an_id_is_checked_for_other_platforms_ids(app):
    """A new route that takes an id must join TENANT_ROUTES (and so be visited with another
    platform's ids, expecting 404) or say in NOT_TENANT_IDS why its parameter is not an id."""
    unchecked = [
        f"{rule.rule} ({rule.endpoint})"
        for rule in app.url_map.iter_rules()
        if set(rule.arguments) - set(NOT_TENANT_IDS)
        and rule.endpoint not in TENANT_ROUTES
        and rule.endpoint.split(".", 1)[0] not in NOT_PLATFORM_SCOPED
    ]
    assert unchecked == []
