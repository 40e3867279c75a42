"""Links that can have no gradebook column (LTI-CHECKLIST G, "Line items"; canvas-as-it-is.md,
"Line item create"): the tool creates none where the LMS cannot have one, and tells the
instructor so instead of failing every learner's score twelve times."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from app.db import get_db
from app.devlms.models import DevLineItem, DevLink
from app.grading.models import ScoreDelivery
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, add_activity, launch
from tests.grading.gradebook_support import (
    add_graded_activity,
    deliveries,
    line_items,
    lms_columns,
    run_worker,
    set_family,
)
from tests.grading.support import submitted, text_of
from tests.support.lms import set_flavour

SECOND_LEARNER = "samuel.okafor@example.edu"


def _canvas(live) -> None:
    set_flavour(live, "canvas")
    set_family(live, "canvas")


def test_a_canvas_module_item_is_an_ungraded_placement_with_nothing_to_send(live, activity):
    _canvas(live)
    module_item = add_activity(live, HINGE)  # launched without the AGS claim's lineitem
    submitted(launch(live, LEARNER, module_item))
    counters = run_worker(live)
    assert (counters.claimed, counters.failed) == (0, 0)
    assert deliveries(live) == []
    assert lms_columns(live, module_item) == []
    [item] = line_items(live)
    assert item.url is None
    assert "not an assignment" in item.no_column


def test_gradebook_sync_of_a_canvas_module_item_says_canvas_keeps_no_grades_for_it(live, activity):
    _canvas(live)
    module_item = add_activity(live, HINGE)
    submitted(launch(live, LEARNER, module_item))
    run_worker(live)
    text = text_of(launch(live, INSTRUCTOR, module_item).get("/gradebook").text)
    assert "This activity has no column in the LMS's gradebook" in text
    assert "not an assignment" in text
    assert "Assignments" in text  # how to make it graded
    assert "did not reach the gradebook" not in text


def test_a_canvas_assignment_launch_still_sends_its_scores(live, activity):
    _canvas(live)
    graded = add_graded_activity(live, HINGE)
    submitted(launch(live, LEARNER, graded))
    run_worker(live)
    [row] = deliveries(live)
    assert row.status == ScoreDelivery.DELIVERED
    [item] = line_items(live)
    assert item.no_column is None


def _module_item_of_an_unknown_lms(live) -> str:
    """A Canvas module item, seen by a tool that does not know the LMS is Canvas (its
    registration says Moodle): it tries to create a column."""
    set_flavour(live, "canvas")
    return add_activity(live, HINGE)


def test_a_404_on_creating_a_column_means_this_link_cannot_have_one(live, activity):
    module_item = _module_item_of_an_unknown_lms(live)
    submitted(launch(live, LEARNER, module_item))
    counters = run_worker(live)
    assert (counters.retried, counters.failed) == (0, 0)
    [row] = deliveries(live)
    assert (row.status, row.tries, row.last_status) == (ScoreDelivery.NO_COLUMN, 1, 404)
    assert "cannot keep grades for this activity" in row.last_error
    [item] = line_items(live)
    assert "HTTP 404" in item.no_column
    assert lms_columns(live, module_item) == []


def test_after_a_refused_column_no_more_scores_are_queued_for_the_link(live, activity):
    module_item = _module_item_of_an_unknown_lms(live)
    submitted(launch(live, LEARNER, module_item))
    run_worker(live)
    submitted(launch(live, SECOND_LEARNER, module_item))
    assert run_worker(live).claimed == 0
    assert len(deliveries(live)) == 1


def test_a_412_on_creating_a_column_means_this_link_cannot_have_one(live, activity):
    """A Canvas assignment whose column was deleted (verify_valid_resource_link)."""
    set_flavour(live, "canvas")
    assignment = add_graded_activity(live, HINGE)
    with get_db(live.devlms).begin() as session:
        session.execute(
            update(DevLink).where(DevLink.title == assignment).values(placement="assignment")
        )
        session.execute(delete(DevLineItem).where(DevLineItem.label == assignment))
    submitted(launch(live, LEARNER, assignment))
    run_worker(live)
    [row] = deliveries(live)
    assert (row.status, row.last_status) == (ScoreDelivery.NO_COLUMN, 412)


def test_gradebook_sync_shows_a_refused_column_as_no_failure(live, activity):
    module_item = _module_item_of_an_unknown_lms(live)
    submitted(launch(live, LEARNER, module_item))
    run_worker(live)
    text = text_of(launch(live, INSTRUCTOR, module_item).get("/gradebook").text)
    assert "This activity has no column in the LMS's gradebook" in text
    assert "Not graded in the LMS" in text
    assert "did not reach the gradebook" not in text
    assert "Send again" not in text


def test_a_later_launch_with_a_column_makes_the_link_graded_again(live, activity):
    _canvas(live)
    module_item = add_activity(live, HINGE)
    launch(live, LEARNER, module_item)
    # The teacher made it graded: the LMS now names a column for the link.
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == module_item)).one()
        column = DevLineItem(
            course_id=link.course_id,
            tool_id=link.tool_id,
            label=module_item,
            score_maximum=10,
            resource_link_id=link.resource_link_id,
        )
        session.add(column)
        session.flush()
        link.line_item_id = column.id
    submitted(launch(live, LEARNER, module_item))
    run_worker(live)
    [item] = line_items(live)
    assert item.no_column is None
    assert deliveries(live)[0].status == ScoreDelivery.DELIVERED
