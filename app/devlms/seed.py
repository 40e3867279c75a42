"""The demo: the development LMS with the tool registered on both sides, one course with an
instructor, a teaching assistant and three educators, two activities (one graded), and a site
administrator who registers tools (Site administration → LTI tools).

The graded activity is made as Deep Linking makes one: its custom parameters name a credential
of the sample catalog (``app/catalog/sample/catalog.json``) and its gradebook column's
``resourceId`` is that credential, so it lands on a real credential once the sample catalog is
imported (``flask demo seed`` does both). The welcome activity has no credential: an instructor
chooses one at its first launch."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devlms.models import DevCourse, DevEnrolment, DevLineItem, DevLink, DevTool, DevUser
from app.devlms.platform import ALL_SCOPES, new_client_id, platform_key
from app.linking.services import CUSTOM_CREDENTIAL, CUSTOM_VERSION, LATEST, LINE_ITEM_TAG
from app.lti.registrations import register_platform
from config import Settings

DEMO_DEPLOYMENT_ID = "1"
PEOPLE = [
    ("Maria", "Alvarez", "maria.alvarez@example.edu", "Instructor"),
    ("Jordan", "Lee", "jordan.lee@example.edu", "Learner"),
    ("Priya", "Natarajan", "priya.natarajan@example.edu", "Learner"),
    ("Samuel", "Okafor", "samuel.okafor@example.edu", "Learner"),
    # The graded credential asks for two independent reviews: the teaching assistant gives
    # the second, so the demo reaches a decision with its own people.
    ("Dana", "Kim", "dana.kim@example.edu", "TeachingAssistant"),
]
DEMO_CREDENTIAL = "formative-assessment-practitioner"
"""The sample catalog's credential the demo's graded activity stands for."""
OLD_DEMO_CREDENTIAL = "demo-formative-assessment"
"""What the graded activity named before (no credential has this slug)."""
# Enrolled in no course, as a Moodle site admin usually is; see registration.SITE_ADMIN_EMAILS.
SITE_ADMIN = ("Alex", "Admin", "alex.admin@example.edu")


def register_tool(
    session: Session, settings: Settings, *, name: str = "Microcred", flavour: str = "moodle"
) -> DevTool:
    """Register the tool in the development LMS and the LMS in the tool (idempotent)."""
    tool = session.scalars(select(DevTool).where(DevTool.name == name)).first()
    base = settings.base_url
    if tool is None:
        tool = DevTool(
            name=name,
            client_id=new_client_id(),
            deployment_id=DEMO_DEPLOYMENT_ID,
            flavour=flavour,
            status="active",
            initiate_login_uri="",
            redirect_uris=[],
            target_link_uri="",
            jwks_uri="",
            scopes=list(ALL_SCOPES),
        )
        session.add(tool)
    # URLs follow the configured origins, so re-seeding after a port change repairs them.
    tool.initiate_login_uri = f"{base}/lti/login"
    tool.redirect_uris = [f"{base}/lti/launch"]
    tool.target_link_uri = f"{base}/lti/launch"
    tool.deep_link_uri = f"{base}/lti/launch"
    # The course menu item opens the catalog, as the tool's Canvas configuration asks; the menu
    # shows it only while the tool behaves like Canvas (Moodle has no course menu placement).
    tool.course_navigation_uri = f"{base}/catalog"
    tool.jwks_uri = f"{base}/.well-known/jwks.json"
    session.flush()
    platform_key(session)
    lms = settings.devlms_url
    register_platform(
        session,
        name="Development LMS",
        issuer=lms,
        client_id=tool.client_id,
        auth_login_url=f"{lms}/auth",
        auth_token_url=f"{lms}/token",
        key_set_url=f"{lms}/jwks",
        platform_family=flavour,
        active_deployment_ids=[tool.deployment_id],
        source="demo",
    )
    return tool


def seed_demo(session: Session, settings: Settings) -> DevCourse:
    """Create the demo course, people and activities once; later calls change nothing."""
    tool = register_tool(session, settings)
    course = session.scalars(select(DevCourse).where(DevCourse.label == "EDU-101")).first()
    if course is None:
        course = _seed_course(session, tool)
    else:
        _repair_graded_link(session, course)
    _seed_site_admin(session)  # after the course's people, so their ids stay 1 to 4
    session.commit()
    return course


def _repair_graded_link(session: Session, course: DevCourse) -> None:
    """Give a demo course seeded before the graded activity named a real credential the custom
    parameters it has now (its old ``credential`` parameter named no credential)."""
    links = session.scalars(select(DevLink).where(DevLink.course_id == course.id)).all()
    for link in links:
        if (link.custom or {}).get("credential") == OLD_DEMO_CREDENTIAL:
            link.custom = {CUSTOM_CREDENTIAL: DEMO_CREDENTIAL, CUSTOM_VERSION: LATEST}
            column = session.get(DevLineItem, link.line_item_id) if link.line_item_id else None
            if column is not None:
                column.resource_id, column.tag = DEMO_CREDENTIAL, LINE_ITEM_TAG


def _seed_site_admin(session: Session) -> None:
    given, family, email = SITE_ADMIN
    if session.scalars(select(DevUser.id).where(DevUser.email == email)).first() is None:
        session.add(
            DevUser(
                sub=f"devlms-admin-{uuid.uuid4().hex[:8]}",
                given_name=given,
                family_name=family,
                email=email,
            )
        )
        session.flush()


def _seed_course(session: Session, tool: DevTool) -> DevCourse:
    course = DevCourse(title="Teaching with Evidence", label="EDU-101", context_id=uuid.uuid4().hex)
    session.add(course)
    session.flush()
    for index, (given, family, email, role) in enumerate(PEOPLE, start=1):
        user = session.scalars(select(DevUser).where(DevUser.email == email)).first()
        if user is None:
            user = DevUser(
                sub=f"devlms-{index}-{uuid.uuid4().hex[:8]}",
                given_name=given,
                family_name=family,
                email=email,
            )
            session.add(user)
            session.flush()
        session.add(DevEnrolment(course_id=course.id, user_id=user.id, role=role))
    column = DevLineItem(
        course_id=course.id,
        tool_id=tool.id,
        label="Micro-credential: Formative Assessment",
        score_maximum=100,
        resource_id=DEMO_CREDENTIAL,
        tag=LINE_ITEM_TAG,
    )
    session.add(column)
    session.flush()
    welcome = DevLink(
        course_id=course.id,
        tool_id=tool.id,
        resource_link_id=uuid.uuid4().hex,
        title="Microcred: welcome",
        text="Meet Microcred",
        custom={},
    )
    graded = DevLink(
        course_id=course.id,
        tool_id=tool.id,
        resource_link_id=uuid.uuid4().hex,
        title="Micro-credential: Formative Assessment",
        text="A graded micro-credential",
        custom={CUSTOM_CREDENTIAL: DEMO_CREDENTIAL, CUSTOM_VERSION: LATEST},
        line_item_id=column.id,
    )
    session.add_all([welcome, graded])
    session.flush()
    column.resource_link_id = graded.resource_link_id
    return course
