"""A launch costs the development LMS the same few statements and rows whatever the size of
the course: the initiation page and the authorization endpoint read the person's own enrolment,
never the course's roster (it made a launch cost the LMS three times the tool's CPU). Counted
in-process over a real launch (``tests/support/launch_cpu.py`` drives it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from app.db import get_db
from app.devlms.models import DevEnrolment, DevLink, DevUser
from tests.support.launch_cpu import Meter, launch
from tests.support.live import LiveServers
from tests.support.roster import enrol_learners

# The signed-in person, the link, its course, the person's enrolment, the tool, the clearing
# of launches never taken (older than a session), and the prepared launch its message hint
# names (app/devlms/launches.py).
INITIATION = 7
# The person, the tool, the prepared launch taken (one DELETE … RETURNING: the hint is single
# use), the link, its course, the person's enrolment, the signing key.
AUTHORIZATION = 7
FAULTS = "SELECT devlms_faults."


def launch_as(live: LiveServers, email: str) -> tuple[dict[str, int], int]:
    """Launch the demo's first link as ``email``; return the statements each LMS request of
    the launch sent, and how many enrolment rows it loaded."""
    with get_db(live.devlms).begin() as session:
        user_id = session.scalars(select(DevUser.id).where(DevUser.email == email)).one()
        link_id = session.scalars(select(DevLink.id).order_by(DevLink.id)).first()
    assert link_id is not None
    meter = Meter(None)
    count = meter.counter("lms")

    def counter(_connection: Any, _cursor: Any, statement: str, *args: Any) -> None:
        # Every page reads the service faults through a one-second cache per process: a read
        # when it has lapsed (a slow, busy run), never one per launch.
        if not statement.startswith(FAULTS):
            count(_connection, _cursor, statement, *args)

    enrolments = [0]

    def loaded(*_args: Any) -> None:
        enrolments[0] += 1

    engine = get_db(live.devlms).engine
    event.listen(engine, "before_cursor_execute", counter)
    event.listen(DevEnrolment, "load", loaded)
    try:
        meter.recording = True
        launch(live, meter, user_id, link_id)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
        event.remove(DevEnrolment, "load", loaded)
    statements = {key.split(":", 1)[1]: n for key, n in meter.statements.items()}
    statements.pop("act-as")
    print("Statements:", {key: texts for key, texts in meter.texts.items()})  # shown on failure
    return statements, enrolments[0]


def test_a_launch_reads_the_persons_enrolment_not_the_roster(live):
    emails = enrol_learners(live, 60)
    launch_as(live, emails[0])  # the tool fetches the platform's keys; caches fill
    statements, enrolments = launch_as(live, emails[-1])
    assert enrolments == 0
    assert statements == {"initiation": INITIATION, "authorization": AUTHORIZATION}, statements


def test_launch_statements_do_not_grow_with_the_course(live):
    first, second = enrol_learners(live, 2)
    launch_as(live, first)
    before, _ = launch_as(live, second)
    more = enrol_learners(live, 60)
    after, _ = launch_as(live, more[-1])
    assert before == after
