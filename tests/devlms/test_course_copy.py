"""Course copy on the development LMS: a new course with a new context id, the same people, and
every link and gradebook column copied with new ids, as Canvas's "Copy this course" and
Moodle's backup and restore give links new resource link ids with the same custom parameters."""

from __future__ import annotations

from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevEnrolment, DevLineItem, DevLink
from tests.support.lms import LmsUser, forms

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
INSTRUCTOR = "maria.alvarez@example.edu"
LEARNER = "jordan.lee@example.edu"
GRADED = "Micro-credential: Formative Assessment"


def copied(live) -> tuple[int, int]:
    """Copy the demo course as its instructor; return ``(source id, copy id)``."""
    teacher = LmsUser(live, INSTRUCTOR)
    source = teacher.course_id()
    return source, teacher.copy_course(source)


def links_of(live, course_id: int) -> dict[str, DevLink]:
    with get_db(live.devlms).begin() as session:
        links = session.scalars(select(DevLink).where(DevLink.course_id == course_id)).all()
        session.expunge_all()
        return {link.title: link for link in links}


def columns_of(live, course_id: int) -> dict[int, DevLineItem]:
    with get_db(live.devlms).begin() as session:
        columns = session.scalars(
            select(DevLineItem).where(DevLineItem.course_id == course_id)
        ).all()
        session.expunge_all()
        return {column.id: column for column in columns}


def test_copy_asks_for_confirmation_first(live):
    teacher = LmsUser(live, INSTRUCTOR)
    course_id = teacher.course_id()
    page = teacher.http.get(f"{live.devlms_url}/courses/{course_id}/copy", timeout=30)
    assert page.status_code == 200
    assert "Copy this course?" in page.text and "new resource link id" in page.text
    [form] = [f for f in forms(page.text) if f.method == "post"]
    assert form.action == f"/courses/{course_id}/copy"
    with get_db(live.devlms).begin() as session:
        assert len(session.scalars(select(DevCourse)).all()) == 1


def test_course_page_offers_the_copy_to_instructors_only(live):
    teacher, learner = LmsUser(live, INSTRUCTOR), LmsUser(live, LEARNER)
    url = f"{live.devlms_url}/courses/{teacher.course_id()}"
    assert "Copy this course" in teacher.http.get(url, timeout=30).text
    assert "Copy this course" not in learner.http.get(url, timeout=30).text


def test_learner_cannot_copy_a_course(live):
    learner = LmsUser(live, LEARNER)
    response = learner.http.post(
        f"{live.devlms_url}/courses/{learner.course_id()}/copy", timeout=30
    )
    assert response.status_code == 403
    assert "instructors can copy it." in response.text


def test_copy_is_a_new_course_with_a_new_context_id(live):
    source_id, copy_id = copied(live)
    with get_db(live.devlms).begin() as session:
        source, copy = session.get(DevCourse, source_id), session.get(DevCourse, copy_id)
        assert copy.title == "Teaching with Evidence (copy)"
        assert copy.label == source.label
        assert copy.context_id != source.context_id
        assert copy.copied_from_id == source.id


def test_copy_has_the_same_people_in_the_same_roles(live):
    source_id, copy_id = copied(live)
    with get_db(live.devlms).begin() as session:

        def people(course_id: int) -> set[tuple[int, str]]:
            rows = session.scalars(
                select(DevEnrolment).where(DevEnrolment.course_id == course_id)
            ).all()
            return {(e.user_id, e.role) for e in rows}

        assert people(copy_id) == people(source_id)


def test_copied_links_have_new_resource_link_ids_and_the_same_content(live):
    source_id, copy_id = copied(live)
    source, copy = links_of(live, source_id), links_of(live, copy_id)
    assert source.keys() == copy.keys()
    for title, link in copy.items():
        original = source[title]
        assert link.resource_link_id != original.resource_link_id
        assert (link.text, link.url, link.custom, link.placement) == (
            original.text,
            original.url,
            original.custom,
            original.placement,
        )


def test_copied_links_point_at_copied_gradebook_columns(live):
    source_id, copy_id = copied(live)
    original, link = links_of(live, source_id)[GRADED], links_of(live, copy_id)[GRADED]
    columns = columns_of(live, copy_id)
    column = columns[link.line_item_id]
    before = columns_of(live, source_id)[original.line_item_id]
    assert column.id != before.id
    assert (column.label, column.score_maximum, column.resource_id, column.tag) == (
        before.label,
        before.score_maximum,
        before.resource_id,
        before.tag,
    )
    assert column.resource_link_id == link.resource_link_id


def test_copy_page_says_what_was_copied(live):
    teacher = LmsUser(live, INSTRUCTOR)
    response = teacher.http.post(
        f"{live.devlms_url}/courses/{teacher.course_id()}/copy", timeout=30
    )
    assert "Teaching with Evidence (copy)" in response.text
    assert "This course is a copy of" in response.text


def test_launch_of_a_copied_link_sends_the_new_resource_link_id_and_the_same_custom(live):
    """What the tool sees after a course copy: a resource link id it has never seen, with the
    custom parameters it put on the original link (and the copied line item)."""
    source_id, copy_id = copied(live)
    learner = LmsUser(live, LEARNER)
    claims = learner.id_token_claims(f"/launch/link/{learner.link_id(GRADED, copy_id)}")
    original = links_of(live, source_id)[GRADED]
    link = links_of(live, copy_id)[GRADED]
    assert claims[LTI + "resource_link"]["id"] == link.resource_link_id != original.resource_link_id
    assert claims[LTI + "custom"] == original.custom
    assert claims[AGS]["lineitem"].endswith(
        f"/courses/{copy_id}/lineitems/{link.line_item_id}/lineitem?type_id={link.tool_id}"
    )
    with get_db(live.devlms).begin() as session:
        assert claims[LTI + "context"]["id"] == session.get(DevCourse, copy_id).context_id
