"""A full launch sends a fixed, small number of SQL statements per tool request (issue 4's
speed goal), however many launches the course has seen. Counted in-process (the tool's Flask
test client) over a real launch from the development LMS, one request at a time:
``tests/support/launch_cpu.py`` drives it, as it does when measuring CPU per launch.

The bounds are today's counts: a change that adds a statement to a launch fails here, and
should say why it is worth it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import event, select

from app.db import get_db
from app.devlms.models import DevLink, DevUser
from tests.support.catalog import seed_sample_catalog
from tests.support.launch_cpu import Meter, launch
from tests.support.live import LiveServers
from tests.support.roster import enrol_learners

PURGE = "DELETE FROM lti_state WHERE lti_state.expires_at <="
# The login record is written (1) after the registration is read (1).
LOGIN = 2
# The login record taken; registration, deployment, course, link and line item read together;
# launch data stored; the person's upsert; then its page, which the launch answers itself (no
# session token to read back): link and binding, the visit's upsert.
LAUNCH = 6


def statements_of_launch(
    live: LiveServers, email: str, link: int = 0, texts: list[str] | None = None
) -> dict[str, int]:
    """Launch the demo's first link (or the ``link``-th) as the person with ``email``; return
    the statements each tool request sent (and add the launch request's to ``texts``)."""
    with get_db(live.devlms).begin() as session:
        user_id = session.scalars(select(DevUser.id).where(DevUser.email == email)).one()
        link_id = session.scalars(select(DevLink.id).order_by(DevLink.id)).all()[link]
    meter = Meter(None)
    count = meter.counter("tool")

    def counter(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # One state write in PURGE_ONE_IN also clears expired values, at random.
        if not statement.startswith(PURGE):
            count(_connection, _cursor, statement)

    engine = get_db(live.tool).engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        meter.recording = True
        launch(live, meter, user_id, link_id, welcome=link == 0)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    if texts is not None:
        texts.extend(meter.texts["tool:launch"])
    return {key.split(":", 1)[1]: count for key, count in meter.statements.items()}


def test_a_launch_of_a_known_link_by_a_new_person_sends_few_statements(live):
    first, second = enrol_learners(live, 2)
    statements_of_launch(live, first)  # the course, link and line item are stored
    counts = statements_of_launch(live, second)
    assert counts == {"login": LOGIN, "launch": LAUNCH}, counts


def test_a_returning_persons_launch_sends_as_many_statements(live):
    [learner] = enrol_learners(live, 1)
    statements_of_launch(live, learner)
    counts = statements_of_launch(live, learner)
    assert counts == {"login": LOGIN, "launch": LAUNCH}, counts


def test_the_first_launch_of_a_link_adds_only_the_rows_it_creates(live):
    """The resource link and its line item are each inserted by one statement (the course was
    stored by a launch of another of its links, which also fetched the platform's keys and
    learned its origin). The launch answers with the link's page, which binds a new link to the
    credential its custom parameter names (one insert in a savepoint): so much more than the next
    person's launch of that link, and nothing else."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)  # the graded link's credential
    first, second, third = enrol_learners(live, 3)
    statements_of_launch(live, first)
    new, known = [], []
    counts = statements_of_launch(live, second, link=1, texts=new)
    later = statements_of_launch(live, third, link=1, texts=known)
    assert counts["login"] == later["login"] == LOGIN
    extra = Counter(_verb(text) for text in new) - Counter(_verb(text) for text in known)
    assert sorted(extra.elements()) == [
        "INSERT INTO linking_linked_credential",
        "INSERT INTO lti_line_item",
        "INSERT INTO lti_resource_link",
        "RELEASE SAVEPOINT",
        "SAVEPOINT",
    ], extra


def _verb(statement: str) -> str:
    """A statement's kind and first table: ``INSERT INTO lti_user``, ``SELECT lti_user``."""
    words = statement.replace(",", " ").replace(".", " ").split()
    if words[0] == "INSERT":
        return " ".join(words[:3])
    return " ".join(words[:2]) if words[0] in {"SELECT", "RELEASE"} else words[0]


def test_launch_statements_do_not_grow_with_the_course(live):
    few = enrol_learners(live, 2)
    statements_of_launch(live, few[0])
    before = statements_of_launch(live, few[1])
    many = enrol_learners(live, 60)
    for email in many[:5]:
        statements_of_launch(live, email)
    assert statements_of_launch(live, many[-1]) == before
