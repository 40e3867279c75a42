"""Line items a tool creates with ``resourceLinkId``: Canvas makes them only for an
assignment's link (``reference/canvas-as-it-is.md``, "Line item create";
``lti/ims/line_items_controller.rb`` and ``concerns/gradebook_services.rb``): 404 for a link that
is not an assignment's (a module item, a course menu link, an unknown id), 412 for an
assignment whose column is gone. Moodle takes them for any of the tool's links."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, select

from app.db import get_db
from app.devlms.models import DevCourse, DevLineItem, DevLink, DevTool
from tests.support.lms import set_flavour
from tests.support.score_sender import ScoreSender

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"


def add_link(live, placement: str, *, column: bool) -> str:
    """A link of the tool in the demo course (with its column when ``column``); return its
    resource link id."""
    resource_link_id = uuid.uuid4().hex
    with get_db(live.devlms).begin() as session:
        course = session.scalars(select(DevCourse).order_by(DevCourse.id)).first()
        tool = session.scalars(select(DevTool)).one()
        link = DevLink(
            course_id=course.id,
            tool_id=tool.id,
            resource_link_id=resource_link_id,
            title=f"{placement} {resource_link_id[:6]}",
            placement=placement,
        )
        if column:
            item = DevLineItem(
                course_id=course.id,
                tool_id=tool.id,
                label=link.title,
                score_maximum=10,
                resource_link_id=resource_link_id,
            )
            session.add(item)
            session.flush()
            link.line_item_id = item.id
        session.add(link)
    return resource_link_id


def create(sender: ScoreSender, **body):
    return sender.http.post(
        sender.lineitems,
        json={"label": "Micro-credential", "scoreMaximum": 10, **body},
        headers={"Content-Type": LINEITEM_TYPE},
        timeout=30,
    )


def columns(live) -> int:
    with get_db(live.devlms).begin() as session:
        return session.scalar(select(func.count()).select_from(DevLineItem)) or 0


@pytest.fixture
def canvas(live) -> ScoreSender:
    set_flavour(live, "canvas")
    return ScoreSender(live)


def test_canvas_refuses_a_column_for_a_module_item_with_404(live, canvas):
    """prepare_line_item_for_ags!: no assignment has this lti_context_id."""
    module_item = add_link(live, "link", column=False)
    before = columns(live)
    refused = create(canvas, resourceLinkId=module_item)
    assert refused.status_code == 404
    assert refused.json() == {"errors": [{"message": "The specified resource does not exist."}]}
    assert columns(live) == before


@pytest.mark.parametrize("placement", ["course_navigation", "unknown"])
def test_canvas_refuses_a_column_for_what_is_no_assignment_with_404(live, canvas, placement):
    link = add_link(live, placement, column=False) if placement != "unknown" else "no-such-link"
    assert create(canvas, resourceLinkId=link).status_code == 404


def test_canvas_refuses_a_column_for_an_assignment_whose_column_is_gone_with_412(live, canvas):
    """verify_valid_resource_link: no active line item (the assignment was deleted)."""
    assignment = add_link(live, "assignment", column=True)
    with get_db(live.devlms).begin() as session:
        session.execute(delete(DevLineItem).where(DevLineItem.resource_link_id == assignment))
    refused = create(canvas, resourceLinkId=assignment)
    assert refused.status_code == 412
    assert refused.content == b""


@pytest.mark.parametrize("placement", ["assignment", "link"])
def test_canvas_adds_a_column_to_an_assignments_link(live, canvas, placement):
    """An assignment, or a module item Deep Linking gave a line item (Canvas made it one)."""
    link = add_link(live, placement, column=True)
    created = create(canvas, resourceLinkId=link)
    assert created.status_code == 201, created.text
    assert created.json()["resourceLinkId"] == link


def test_canvas_creates_a_column_without_a_link(canvas):
    assert create(canvas).status_code == 201


def test_moodle_adds_a_column_to_any_of_the_tools_links(live):
    sender = ScoreSender(live)
    module_item = add_link(live, "link", column=False)
    assert create(sender, resourceLinkId=module_item).status_code == 201
