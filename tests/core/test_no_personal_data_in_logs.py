"""No personal data in logs (issue 23 item 5): an educator with a distinctive name, email and
LMS user id launches from the development LMS, autosaves answers, uploads a file, describes it,
adds a link and submits; an instructor claims and decides it with feedback while a teaching
assistant is told the submission is taken; the worker sends the score and the outbox issues the
badge; the educator opens their badges and downloads their file; someone fails to sign in to the
console. Every log line the tool and the development LMS write meanwhile, with the tool's logging
at DEBUG, is captured as the JSON line its handler writes, and none may hold an email, a name,
a ``sub``, the file's name or any evidence or feedback text.

The tool's level is set the way an operator sets it (``MICROCRED_LOG_LEVEL=DEBUG``): every
logger that propagates to the root logs at DEBUG, libraries included (urllib3 writes every URL
the tool calls); SQLAlchemy and werkzeug keep the WARNING levels they are given. Lines of the
test's own HTTP client (the browser's, not the tool's) are left out: they come from the test's
thread, where nothing of the tool runs — the worker and the outbox processor run in threads of
their own, as in the embedded default.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevEnrolment, DevUser
from app.logs import JsonFormatter
from app.lti.models import LtiUser
from tests.badges.support import process
from tests.conftest import seeded_live
from tests.evidence.support import HINGE, INSTRUCTOR, Session, add_activity, launch, start
from tests.grading.gradebook_support import run_worker
from tests.grading.support import TA, claim, decide, judgement, make_role, set_review
from tests.support.catalog import seed_sample_catalog
from tests.support.images import png
from tests.support.lms import DEMO_COURSE

GIVEN, FAMILY = "Wilhelmina", "Quackenbush-Oyelaran"
EMAIL = "w.quackenbush-oyelaran@privacy-probe.example"
SUB = "sub-privacy-probe-7f3c91"
FILE_NAME = "Wilhelmina year 9B exit tickets.png"
OVERVIEW = "Zephyrine and Bartholomew answered the hinge question on photosynthesis"
REFLECTION = "Next time I will ask Ottoline to explain her distractor choice first"
TRANSCRIPT = "Transcript: Marguerite says the plant eats sunlight, Fitzgerald disagrees"
LINK_URL = "https://video.example.edu/privacy-probe/lesson-with-Zephyrine"
LINK_TITLE = "Lesson recording with Bartholomew's group"
FEEDBACK = "Your questioning of Zephyrine's group was precise and well judged"
COMMENT = "Ottoline's answer shows the misconception clearly"
OPERATOR_EMAIL = "night.operator.probe@district-probe.example"

INSTRUCTOR_NAME = "Maria Alvarez"


def _personal(instructor_sub: str, ta_name: str, ta_sub: str) -> dict[str, str]:
    """What must appear in no log line, by what it is."""
    return {
        "educator's email": EMAIL,
        "educator's given name": GIVEN,
        "educator's family name": FAMILY,
        "educator's sub": SUB,
        "file name": FILE_NAME,
        "file name without extension": FILE_NAME.rsplit(".", 1)[0],
        "answer text": OVERVIEW,
        "reflection text": REFLECTION,
        "file description": TRANSCRIPT,
        "link address": LINK_URL,
        "link title": LINK_TITLE,
        "feedback": FEEDBACK,
        "criterion comment": COMMENT,
        "instructor's email": INSTRUCTOR,
        "instructor's name": INSTRUCTOR_NAME,
        "instructor's sub": instructor_sub,
        "assistant's email": TA,
        "assistant's name": ta_name,
        "assistant's sub": ta_sub,
        "operator's email": OPERATOR_EMAIL,
    }


class _Lines(logging.Handler):
    """Every record that reaches the root logger, formatted by the tool's own JSON formatter,
    with the thread it was logged on."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[tuple[int | None, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.thread, record.name, self.format(record)))


@pytest.fixture
def live_at_debug(settings_override: dict[str, Any]) -> Iterator[Any]:
    settings = {**settings_override, "MICROCRED_LOG_LEVEL": "DEBUG"}
    yield from seeded_live(settings)


@pytest.fixture
def captured(live_at_debug) -> Iterator[_Lines]:
    handler = _Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(logging.WARNING)  # as the suite's other apps set it


def _educator_in_demo_course(live) -> None:
    with get_db(live.devlms).begin() as session:
        course = session.scalars(select(DevCourse).where(DevCourse.title == DEMO_COURSE)).one()
        user = DevUser(sub=SUB, given_name=GIVEN, family_name=FAMILY, email=EMAIL)
        session.add(user)
        session.flush()
        session.add(DevEnrolment(course_id=course.id, user_id=user.id, role="Learner"))


def _lms_person(live, email: str) -> tuple[str, str]:
    with get_db(live.devlms).begin() as session:
        user = session.scalars(select(DevUser).where(DevUser.email == email)).one()
        return user.name, user.sub


def _bearer(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.token}", "Accept": "application/json"}


def _upload(educator: Session, attempt: int, part: str, name: str, content: bytes) -> int:
    """Upload a file the way the page's script does: announce, send, complete."""
    http, base = educator.user.http, educator.base
    started = http.post(
        f"{base}/api/evidence/attempts/{attempt}/parts/{part}/files",
        json={"name": name, "size": len(content)},
        headers=_bearer(educator),
        timeout=30,
    )
    assert started.status_code == 201, started.text
    file_id: int = started.json()["id"]
    sent = http.put(
        f"{base}/api/evidence/files/{file_id}/content",
        params={"offset": 0},
        data=content,
        headers={**_bearer(educator), "Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    done = http.post(
        f"{base}/api/evidence/files/{file_id}/complete", headers=_bearer(educator), timeout=30
    )
    assert done.status_code == 200, done.text
    return file_id


def _in_a_thread(work: Callable[[], Any]) -> None:
    """Run the tool's background work off the test's thread (as the embedded worker runs)."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the test's thread below
            failures.append(exc)

    thread = threading.Thread(target=run, name="privacy-probe-worker")
    thread.start()
    thread.join()
    assert not failures, failures


def _failed_console_sign_in(live) -> None:
    http = requests.Session()
    page = http.get(f"{live.tool_url}/admin/sign-in", timeout=30)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    refused = http.post(
        f"{live.tool_url}/admin/sign-in",
        data={"csrf_token": csrf[1], "email": OPERATOR_EMAIL, "password": "not the password"},
        timeout=30,
    )
    assert refused.status_code in (400, 401, 403), refused.status_code


def _found(line: str, value: str) -> bool:
    decoded = json.dumps(json.loads(line), ensure_ascii=False)
    return value.lower() in line.lower() or value.lower() in decoded.lower()


def test_a_launch_evidence_review_and_badge_leave_no_personal_data_in_any_log_line(
    live_at_debug, captured
):
    live = live_at_debug
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)  # names shown to assessors: the claim says who holds it
    activity = add_activity(live, HINGE)
    _educator_in_demo_course(live)
    make_role(live, TA, "TeachingAssistant")
    _instructor_name, instructor_sub = _lms_person(live, INSTRUCTOR)
    ta_name, ta_sub = _lms_person(live, TA)
    personal = _personal(instructor_sub, ta_name, ta_sub)

    # The educator: launch, autosave, upload and describe a file, add a link, submit.
    educator = launch(live, EMAIL, activity)
    with get_db(live.tool).begin() as session:  # the launch did carry name and email
        assert session.scalars(select(LtiUser.email).where(LtiUser.sub == SUB)).one() == EMAIL
    attempt = int(re.search(r'data-attempt="(\d+)"', start(educator, HINGE).text)[1])
    for part, text in (("overview", OVERVIEW), ("reflection", REFLECTION)):
        saved = educator.put_json(
            f"/work/attempts/{attempt}/answers/{part}", {"text": text, "version": 0}
        )
        assert saved.ok, saved.text[:300]
    file_id = _upload(educator, attempt, "lesson-plan", FILE_NAME, png())
    described = educator.post(f"/work/files/{file_id}/description", description=TRANSCRIPT)
    assert described.status_code == 200, described.text[:300]
    linked = educator.post(
        f"/work/attempts/{attempt}/links", part="response-evidence", url=LINK_URL, title=LINK_TITLE
    )
    assert linked.status_code == 200, linked.text[:300]
    submitted = educator.post(f"/work/attempts/{attempt}/submit")
    assert submitted.status_code == 200, submitted.text[:300]

    # The review: the instructor claims it; the assistant finds it taken; the instructor
    # decides with feedback and a comment.
    instructor = launch(live, INSTRUCTOR, activity)
    assert claim(instructor, attempt).status_code == 200
    assistant = launch(live, TA, activity)
    taken = claim(assistant, attempt)
    assert taken.status_code == 409 and INSTRUCTOR_NAME in taken.text
    criteria = judgement()
    criteria["every-student-responds"]["comment"] = COMMENT
    decided = decide(instructor, attempt, criteria, FEEDBACK)
    assert "Decision recorded: earned" in decided.text, decided.text[:800]
    assert instructor.get("/activity/people").status_code == 200

    # The worker sends the score; the outbox issues the badge.
    _in_a_thread(lambda: run_worker(live))
    _in_a_thread(lambda: process(live.tool))

    # The educator sees their badge and downloads their file; its public page is opened.
    mine = educator.get("/my/badges")
    assert mine.status_code == 200 and "Questioning" in mine.text
    public_id = re.search(r"/badges/([A-Za-z0-9_-]{16,})/badge\.png", mine.text)
    assert public_id
    assert requests.get(f"{live.tool_url}/badges/{public_id[1]}", timeout=30).ok
    assert educator.get(f"/evidence/files/{file_id}/download").ok

    _failed_console_sign_in(live)

    main = threading.main_thread().ident
    lines = [
        (name, line)
        for thread, name, line in captured.lines
        if not (thread == main and name.startswith("urllib3"))
    ]
    assert any(name == "urllib3.connectionpool" for name, _ in lines), "DEBUG lines captured"
    assert any('"msg": "launch"' in line for _, line in lines)
    leaks = [
        f"{what} in {line}"
        for _, line in lines
        for what, value in personal.items()
        if value and _found(line, value)
    ]
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks)


def test_the_session_token_in_page_addresses_carries_no_lms_user_id(live_at_debug):
    """The launch session token travels in URLs (``?lt=``), where proxies' access logs and
    ``Referer`` headers take it: it is signed, not encrypted, so it must not carry the ``sub``
    (its payload is readable without the key)."""
    import base64
    import zlib

    live = live_at_debug
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    activity = add_activity(live, HINGE)
    _educator_in_demo_course(live)
    educator = launch(live, EMAIL, activity)
    compressed = educator.token.startswith(".")  # itsdangerous marks a zlib payload so
    payload = educator.token.removeprefix(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    decoded = (zlib.decompress(raw) if compressed else raw).decode()
    assert SUB not in decoded and EMAIL not in decoded, decoded
