"""The educator's workspace over real launches from the development LMS: starting, autosave
with optimistic concurrency, links, submitting, "not yet" and the next attempt, ownership
across courses, and every refusal as a 4xx with a message (issue 8)."""

from __future__ import annotations

import threading
from html import unescape

import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.evidence.models import Attempt, EvidenceFile, EvidenceLink
from tests.evidence.support import (
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    Session,
    add_activity,
    answer_text,
    attempt_id,
    attempts,
    launch,
    link_from,
    other_platform_attempt,
    rows_of,
    second_course,
    set_state,
    start,
)
from tests.support.catalog import seed_sample_catalog
from tests.support.forge import Forge


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


@pytest.fixture
def educator(live, activity) -> Session:
    return launch(live, LEARNER, activity)


def _started(educator: Session) -> int:
    return attempt_id(start(educator, HINGE).text)


def _save(educator: Session, attempt: int, part: str, text: str, version: int):
    return educator.put_json(
        f"/work/attempts/{attempt}/answers/{part}", {"text": text, "version": version}
    )


def _complete(educator: Session, attempt: int) -> None:
    """Fill every required part of the hinge-question credential."""
    assert _save(educator, attempt, "overview", "My class of 28 and the hinge.", 0).ok
    assert _save(educator, attempt, "reflection", "What I learned from it.", 0).ok
    for part in ("lesson-plan", "response-evidence"):
        added = educator.post(
            f"/work/attempts/{attempt}/links",
            part=part,
            url="https://docs.example.org/plan",
            title="My plan",
        )
        assert added.status_code == 200, added.text[:500]


# --- Starting -------------------------------------------------------------------------------


def test_the_activity_page_offers_to_start_the_credential(educator):
    assert "Start this micro-credential" in educator.page.text


def test_starting_opens_a_draft_at_the_activitys_version(live, educator):
    page = start(educator, HINGE)
    assert "Draft" in page.text and "attempt 1 of 3" in page.text
    [row] = attempts(live)
    assert row.state == Attempt.DRAFT and row.number == 1
    assert row.started_resource_link_id is not None


def test_the_activity_page_then_offers_to_continue_the_draft(live, educator, activity):
    _started(educator)
    again = launch(live, LEARNER, activity)
    assert "Continue your draft (saved" in again.page.text
    assert "Start this micro-credential" not in again.page.text


def test_two_starts_at_once_make_one_attempt(live, educator):
    statuses = []
    barrier = threading.Barrier(2)

    def press() -> None:
        http = requests.Session()
        http.cookies.update(educator.user.http.cookies)
        barrier.wait()
        response = http.post(
            f"{live.tool_url}/work/{HINGE}/start", data={"lt": educator.token}, timeout=30
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    assert len(attempts(live)) == 1


def test_the_workspace_shows_each_parts_guidance_and_criteria(educator):
    page = start(educator, HINGE).text
    assert 'id="part-overview"' in page and "What to include" in page
    assert "How it is judged" in page
    assert 'for="text-overview"' in page and "Up to 400 words" in page


# --- Autosave -------------------------------------------------------------------------------


def test_autosave_answers_the_new_version_and_the_word_count(live, educator):
    attempt = _started(educator)
    saved = _save(educator, attempt, "overview", "Twenty-eight students, grade 7.", 0)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == 1 and body["words"] == 4 and body["over_limit"] is False
    assert body["saved_at"].endswith("+00:00") and body["session"]
    again = _save(educator, attempt, "overview", "Twenty-eight students, grade 8.", 1)
    assert again.json()["version"] == 2
    assert answer_text(live, attempt, "overview") == "Twenty-eight students, grade 8."


def test_a_stale_version_is_a_conflict_carrying_both_texts(live, educator):
    attempt = _started(educator)
    _save(educator, attempt, "overview", "From the first tab.", 0)
    _save(educator, attempt, "overview", "From the first tab, edited.", 1)
    stale = _save(educator, attempt, "overview", "From the second tab.", 1)
    assert stale.status_code == 409
    body = stale.json()
    assert body["server_text"] == "From the first tab, edited." and body["server_version"] == 2
    assert body["your_text"] == "From the second tab."
    assert "another tab" in body["message"]
    assert answer_text(live, attempt, "overview") == "From the first tab, edited."


def test_two_first_saves_of_a_part_conflict_rather_than_overwrite(live, educator):
    attempt = _started(educator)
    assert _save(educator, attempt, "overview", "Tab one.", 0).status_code == 200
    second = _save(educator, attempt, "overview", "Tab two.", 0)
    assert second.status_code == 409 and second.json()["server_text"] == "Tab one."


def test_saving_the_same_text_again_changes_nothing(live, educator):
    attempt = _started(educator)
    first = _save(educator, attempt, "overview", "Same words.", 0).json()
    again = _save(educator, attempt, "overview", "Same words.", 0)
    assert again.status_code == 200
    assert again.json()["version"] == 1 and again.json()["changed"] is False
    assert again.json()["saved_at"] == first["saved_at"]


def test_a_text_over_the_word_limit_is_saved_and_shown_as_over(live, educator):
    attempt = _started(educator)
    long_text = "word " * 401
    saved = _save(educator, attempt, "overview", long_text, 0)
    assert saved.status_code == 200 and saved.json()["over_limit"] is True
    page = educator.get(f"/work/{HINGE}").text
    assert "over the limit" in page and "has 401 words; the limit is 400" in page


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("not json", "Send the answer as JSON"),
        ({"text": 5, "version": 0}, "needs its text"),
        ({"text": "x", "version": "1"}, "needs its text"),
        ({"text": "x", "version": -1}, "“version” must be a whole number from 0"),
    ],
)
def test_a_malformed_save_is_a_400_with_a_message(educator, body, words):
    attempt = _started(educator)
    path = f"/work/attempts/{attempt}/answers/overview"
    if isinstance(body, str):
        response = educator.user.http.put(
            educator.base + path,
            data=body,
            headers={"Authorization": f"Bearer {educator.token}", "Accept": "application/json"},
            timeout=30,
        )
    else:
        response = educator.put_json(path, body)
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


def test_a_text_too_long_to_keep_is_refused_and_the_saved_text_kept(live, educator):
    attempt = _started(educator)
    _save(educator, attempt, "overview", "Kept.", 0)
    refused = _save(educator, attempt, "overview", "x" * 200_001, 1)
    assert refused.status_code == 400
    assert "longer than Microcred can keep" in refused.json()["error"]["message"]
    assert answer_text(live, attempt, "overview") == "Kept."


def test_a_save_to_an_unknown_part_is_a_404(educator):
    attempt = _started(educator)
    response = _save(educator, attempt, "no-such-part", "x", 0)
    assert response.status_code == 404 and "no such part" in response.json()["error"]["message"]


def test_text_for_a_part_that_takes_only_files_and_links_is_refused(educator):
    attempt = _started(educator)
    response = _save(educator, attempt, "lesson-plan", "x", 0)
    assert response.status_code == 400
    assert "does not take a written answer" in response.json()["error"]["message"]


def test_a_save_without_the_session_token_is_a_401(live, educator):
    attempt = _started(educator)
    response = requests.put(
        f"{live.tool_url}/work/attempts/{attempt}/answers/overview",
        json={"text": "x", "version": 0},
        timeout=30,
    )
    assert response.status_code == 401


def test_the_form_fallback_saves_without_script(live, educator):
    attempt = _started(educator)
    saved = educator.post(
        f"/work/attempts/{attempt}/answers/overview", text="Posted\r\nby a form.", version="0"
    )
    assert saved.status_code == 200 and f"/work/{HINGE}" in saved.url
    assert answer_text(live, attempt, "overview") == "Posted\nby a form."


def test_the_form_fallback_shows_a_conflict_with_both_texts(live, educator):
    attempt = _started(educator)
    _save(educator, attempt, "overview", "Saved elsewhere.", 0)
    stale = educator.post(f"/work/attempts/{attempt}/answers/overview", text="Mine.", version="0")
    assert stale.status_code == 409
    assert "This answer was also changed somewhere else" in stale.text
    assert "Saved elsewhere." in stale.text and "Mine." in stale.text
    assert "Keep both" in stale.text
    assert answer_text(live, attempt, "overview") == "Saved elsewhere."


# --- Links ----------------------------------------------------------------------------------


def test_a_link_is_added_and_listed(live, educator):
    attempt = _started(educator)
    page = educator.post(
        f"/work/attempts/{attempt}/links",
        part="lesson-plan",
        url="https://docs.example.org/plan",
        title="  My   plan ",
    )
    assert page.status_code == 200
    assert 'href="https://docs.example.org/plan"' in page.text and ">My plan<" in page.text
    [link] = rows_of(live, EvidenceLink, attempt)
    assert link.title == "My plan"


@pytest.mark.parametrize(
    ("url", "title", "words"),
    [
        ("javascript:alert(1)", "x", "Only web addresses starting with https://"),
        ("data:text/html,<script>alert(1)</script>", "x", "Only web addresses"),
        ("ftp://files.example.org/a", "x", "Only web addresses"),
        ("https://", "x", "has no site name"),
        ("https://docs.example.org/a b", "x", "cannot contain spaces"),
        ("https://docs.example.org/" + "a" * 2100, "x", "longer than 2048"),
        ("https://docs.example.org/plan", "   ", "Give the link a title"),
        ("https://docs.example.org/plan", "t" * 201, "200 characters or fewer"),
        ("", "x", "Enter the link"),
    ],
)
def test_a_bad_link_is_refused_with_a_message_and_nothing_saved(live, educator, url, title, words):
    attempt = _started(educator)
    page = educator.post(
        f"/work/attempts/{attempt}/links", part="lesson-plan", url=url, title=title
    )
    assert page.status_code == 400
    assert words in page.text
    assert rows_of(live, EvidenceLink, attempt) == []


def test_a_link_is_removed(live, educator):
    attempt = _started(educator)
    educator.post(
        f"/work/attempts/{attempt}/links",
        part="lesson-plan",
        url="https://a.example.org",
        title="A",
    )
    [link] = rows_of(live, EvidenceLink, attempt)
    page = educator.post(f"/work/attempts/{attempt}/links/{link.id}/remove", part="lesson-plan")
    assert page.status_code == 200
    assert rows_of(live, EvidenceLink, attempt) == []


# --- Display --------------------------------------------------------------------------------


def test_html_typed_in_an_answer_is_neutralised_on_display(live, educator):
    attempt = _started(educator)
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)> **bold**'
    _save(educator, attempt, "overview", attack, 0)
    draft = educator.get(f"/work/{HINGE}").text
    assert "<script>alert" not in draft and "&lt;script&gt;" in draft  # escaped in the textarea
    _complete_rest(educator, attempt)
    assert educator.post(f"/work/attempts/{attempt}/submit").status_code == 200
    shown = educator.get(f"/work/{HINGE}").text
    assert "<script>alert" not in shown and "<img src=x" not in shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown  # shown as the text it is
    assert "<strong>bold</strong>" in shown


def _complete_rest(educator: Session, attempt: int) -> None:
    _save(educator, attempt, "reflection", "Reflection.", 0)
    for part in ("lesson-plan", "response-evidence"):
        educator.post(
            f"/work/attempts/{attempt}/links", part=part, url="https://a.example.org", title="A"
        )


# --- Who may see what -----------------------------------------------------------------------


def test_an_anonymous_launch_sees_the_workspace_read_only(live, activity):
    pending = Forge(live).start(activity)
    claims = pending.claims
    for name in ("sub", "name", "given_name", "family_name", "email"):
        claims.pop(name, None)
    page = pending.post(Forge(live).sign(claims))
    assert page.status_code == 200, page.text[:500]
    assert "read this micro-credential but not" in page.text
    assert "Start this micro-credential" not in page.text
    token = page.url.split("lt=")[1]
    work = pending.user.http.get(f"{live.tool_url}/work/{HINGE}", params={"lt": token}, timeout=30)
    assert work.status_code == 200 and "Read only." in work.text
    assert "<textarea" not in work.text
    refused = pending.user.http.post(
        f"{live.tool_url}/work/{HINGE}/start", data={"lt": token}, timeout=30
    )
    assert refused.status_code == 403 and "without saying who you are" in refused.text


def test_another_educators_attempt_is_not_found(live, educator, activity):
    attempt = _started(educator)
    _save(educator, attempt, "overview", "Mine.", 0)
    other = launch(live, OTHER_LEARNER, activity)
    response = _save(other, attempt, "overview", "Theirs.", 1)
    assert response.status_code == 404
    assert other.post(f"/work/attempts/{attempt}/submit").status_code == 404
    assert answer_text(live, attempt, "overview") == "Mine."


def test_the_same_credential_from_a_second_course_shows_the_same_attempt(live, educator):
    attempt = _started(educator)
    _save(educator, attempt, "overview", "Started in course one.", 0)
    other_course = add_activity(live, HINGE, course=second_course(live))
    there = launch(live, LEARNER, other_course)
    assert "Continue your draft" in there.page.text
    page = there.get(f"/work/{HINGE}").text
    assert attempt_id(page) == attempt and "Started in course one." in page
    assert len(attempts(live)) == 1


def test_a_draft_survives_a_new_launch(live, educator, activity):
    attempt = _started(educator)
    _save(educator, attempt, "overview", "Typed yesterday.", 0)
    tomorrow = launch(live, LEARNER, activity)
    workspace = link_from(tomorrow.page.text, f"/work/{HINGE}")
    page = tomorrow.user.http.get(live.tool_url + workspace, timeout=30)
    assert "Typed yesterday." in page.text and attempt_id(page.text) == attempt


# --- Submitting -----------------------------------------------------------------------------


def test_an_incomplete_attempt_is_not_submitted(live, educator):
    attempt = _started(educator)
    confirm = educator.get(f"/work/attempts/{attempt}/submit")
    assert "Before you can submit" in confirm.text and "needs a written answer" in confirm.text
    refused = educator.post(f"/work/attempts/{attempt}/submit")
    assert refused.status_code == 400 and "Not submitted" in refused.text
    assert attempts(live)[0].state == Attempt.DRAFT


def test_an_attempt_over_the_word_limit_is_not_submitted(live, educator):
    attempt = _started(educator)
    _complete(educator, attempt)
    _save(educator, attempt, "overview", "word " * 401, 1)
    refused = educator.post(f"/work/attempts/{attempt}/submit")
    assert refused.status_code == 400 and "the limit is 400" in refused.text
    assert attempts(live)[0].state == Attempt.DRAFT


def test_submit_locks_the_attempt(live, educator):
    attempt = _started(educator)
    _complete(educator, attempt)
    confirm = educator.get(f"/work/attempts/{attempt}/submit")
    assert "Submit for review" in confirm.text
    done = educator.post(f"/work/attempts/{attempt}/submit")
    assert done.status_code == 200 and "Submitted" in done.text
    [row] = attempts(live)
    assert row.state == Attempt.SUBMITTED and row.submitted_at is not None
    locked = _save(educator, attempt, "overview", "Changed after.", 1)
    assert locked.status_code == 409 and "locked" in locked.json()["error"]["message"]
    assert answer_text(live, attempt, "overview") == "My class of 28 and the hinge."


def test_a_double_submit_is_a_409_that_changes_nothing(live, educator):
    attempt = _started(educator)
    _complete(educator, attempt)
    educator.post(f"/work/attempts/{attempt}/submit")
    first = attempts(live)[0].submitted_at
    again = educator.post(f"/work/attempts/{attempt}/submit")
    assert again.status_code == 409 and "You submitted this attempt" in again.text
    assert attempts(live)[0].submitted_at == first


def test_two_concurrent_submits_one_wins(live, educator):
    attempt = _started(educator)
    _complete(educator, attempt)
    statuses: list[int] = []
    barrier = threading.Barrier(3)

    def press() -> None:
        http = requests.Session()
        barrier.wait()
        response = http.post(
            f"{live.tool_url}/work/attempts/{attempt}/submit",
            data={"lt": educator.token},
            allow_redirects=False,
            timeout=30,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=press) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [303, 409, 409]
    assert attempts(live)[0].state == Attempt.SUBMITTED


# --- Not yet, and the next attempt ----------------------------------------------------------


def _not_yet(live, educator: Session) -> int:
    attempt = _started(educator)
    _complete(educator, attempt)
    educator.post(f"/work/attempts/{attempt}/submit")
    set_state(live, attempt, Attempt.NOT_YET)
    return attempt


def _add_file(live, attempt: int, state: str = EvidenceFile.COMPLETE, key: str = "k1") -> None:
    with get_db(live.tool).begin() as session:
        row = session.get(Attempt, attempt)
        session.add(
            EvidenceFile(
                registration_id=row.registration_id,
                attempt_id=attempt,
                part_key="lesson-plan",
                storage_key=key,
                name="plan.pdf",
                media_type="application/pdf",
                size=10,
                received=10 if state == EvidenceFile.COMPLETE else 3,
                sha256="0" * 64 if state == EvidenceFile.COMPLETE else None,
                state=state,
            )
        )


def test_not_yet_shows_the_next_attempt_form(live, educator):
    _not_yet(live, educator)
    page = educator.get(f"/work/{HINGE}").text
    assert "Not yet" in page and "Start attempt 2 of 3" in page
    assert "What I changed, or will change" in page


def test_the_next_attempt_requires_a_note(live, educator):
    attempt = _not_yet(live, educator)
    refused = educator.post(f"/work/attempts/{attempt}/next", note="   ")
    assert refused.status_code == 400 and "Say briefly what you changed" in refused.text
    assert len(attempts(live)) == 1


def test_the_next_attempt_carries_answers_links_and_complete_files(live, educator):
    attempt = _not_yet(live, educator)
    _add_file(live, attempt, key="complete-key")
    _add_file(live, attempt, state=EvidenceFile.UPLOADING, key="unfinished-key")
    page = educator.post(f"/work/attempts/{attempt}/next", note="Sharper hinge question.")
    assert page.status_code == 200 and "attempt 2 of 3" in page.text
    first, second = attempts(live)
    assert (second.number, second.state, second.version_id) == (2, "draft", first.version_id)
    assert second.changes_note == "Sharper hinge question."
    assert answer_text(live, second.id, "overview") == "My class of 28 and the hinge."
    assert [(x.part_key, x.url) for x in rows_of(live, EvidenceLink, second.id)] == [
        ("lesson-plan", "https://docs.example.org/plan"),
        ("response-evidence", "https://docs.example.org/plan"),
    ]
    [carried] = rows_of(live, EvidenceFile, second.id)
    assert carried.storage_key == "complete-key" and carried.state == EvidenceFile.COMPLETE
    assert "Sharper hinge question." in page.text
    # The carried answer starts a fresh version history, and saves normally.
    assert _save(educator, second.id, "overview", "Revised.", 1).status_code == 200


def test_starting_the_next_attempt_twice_makes_one(live, educator):
    attempt = _not_yet(live, educator)
    educator.post(f"/work/attempts/{attempt}/next", note="One.")
    again = educator.post(f"/work/attempts/{attempt}/next", note="Two.")
    assert again.status_code == 200
    assert [a.number for a in attempts(live)] == [1, 2]


def test_a_next_attempt_before_a_decision_is_refused(live, educator):
    attempt = _started(educator)
    refused = educator.post(f"/work/attempts/{attempt}/next", note="Early.")
    assert refused.status_code == 409 and "only after a decision" in refused.text


def test_after_the_last_attempt_the_page_names_whom_to_contact(live, educator):
    attempt = _not_yet(live, educator)
    with get_db(live.tool).begin() as session:
        row = session.get(Attempt, attempt)
        row.number = 3  # the third and last attempt ended "not yet"
    page = educator.get(f"/work/{HINGE}").text
    assert "You have used all 3 attempts" in page
    assert "Lakemont" in page and "microcredentials@example.edu" in page
    assert "Start attempt" not in page
    refused = educator.post(f"/work/attempts/{attempt}/next", note="Please.")
    assert refused.status_code == 409
    assert "microcredentials@example.edu" in refused.text
    assert len(attempts(live)) == 1


# --- The instructor's view ------------------------------------------------------------------


def test_the_instructor_sees_each_visitors_evidence_state(live, educator, activity):
    attempt = _started(educator)
    _complete(educator, attempt)
    educator.post(f"/work/attempts/{attempt}/submit")
    launch(live, OTHER_LEARNER, activity)
    instructor = launch(live, INSTRUCTOR, activity)
    people = instructor.get("/activity/people").text
    assert "Evidence" in people
    jordan = people.split("Jordan Lee")[1].split("</tr>")[0]
    priya = people.split("Priya Natarajan")[1].split("</tr>")[0]
    assert ">Submitted<" in jordan and ">Not started<" in priya


def test_a_learner_is_told_who_may_see_who_has_opened_it(live, educator):
    """Issue 28 item 14: the refusal spoke of adding micro-credentials."""
    refused = educator.get("/activity/people")
    assert refused.status_code == 403
    text = unescape(refused.text)
    assert "teachers, designers and administrators can see who has opened this activity" in text
    assert "add micro-credentials" not in text


def test_another_platforms_attempt_is_not_found(live, educator):
    """Every evidence route that takes an id, with another platform's ids (tests/test_tenancy)."""
    from tests.test_tenancy import TENANT_ROUTES

    registration_id, theirs = other_platform_attempt(live, _started(educator))
    with get_db(live.tool).begin() as session:
        link = EvidenceLink(
            registration_id=registration_id,
            attempt_id=theirs,
            part_key="lesson-plan",
            url="https://beta.example/x",
            title="Theirs",
        )
        session.add(link)
        session.flush()
        ids = {"attempt": theirs, "link": link.id}
    for endpoint, build in TENANT_ROUTES.items():
        if not endpoint.startswith("evidence."):
            continue
        path = build(ids)
        if endpoint == "evidence.save_answer_json":
            response = educator.put_json(path, {"text": "x", "version": 0})
        elif endpoint == "evidence.confirm_submit":
            response = educator.get(path)
        else:
            response = educator.post(path, note="n", part="lesson-plan", url="https://a.org/")
        assert response.status_code == 404, (endpoint, response.status_code)
    assert [x.title for x in rows_of(live, EvidenceLink, ids["attempt"])] == ["Theirs"]


def _publish_version_2(live) -> None:
    """Publish a second version of the hinge-question credential (one more part)."""
    from app.catalog.models import Credential, CredentialVersion
    from app.db import utcnow

    with get_db(live.tool).begin() as session:
        credential = session.scalars(select(Credential).where(Credential.slug == HINGE)).one()
        first = credential.versions[0]
        content = dict(first.content)
        content["attempt_limit"] = 2
        session.add(
            CredentialVersion(
                credential_id=credential.id,
                number=2,
                status=CredentialVersion.PUBLISHED,
                content=content,
                title=first.title,
                short_description=first.short_description,
                tags=list(first.tags),
                estimated_hours=first.estimated_hours,
                published_at=utcnow(),
            )
        )


def _version_number(live, attempt: int) -> int:
    from app.catalog.models import CredentialVersion

    with get_db(live.tool).begin() as session:
        row = session.get(Attempt, attempt)
        return session.get(CredentialVersion, row.version_id).number


def test_a_pinned_activity_starts_at_its_version_and_the_catalog_at_the_latest(live):
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    pinned = add_activity(live, HINGE, version="1")
    _publish_version_2(live)
    from_course = launch(live, LEARNER, pinned)
    course_attempt = _started(from_course)
    assert _version_number(live, course_attempt) == 1
    assert "attempt 1 of 3" in from_course.get(f"/work/{HINGE}").text

    from_catalog = launch(live, OTHER_LEARNER, "Microcred: welcome")  # not this credential
    catalog_attempt = _started(from_catalog)
    assert _version_number(live, catalog_attempt) == 2
    assert "attempt 1 of 2" in from_catalog.get(f"/work/{HINGE}").text


def test_an_existing_attempt_keeps_its_version(live):
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    welcome = launch(live, LEARNER, "Microcred: welcome")
    attempt = _started(welcome)
    _publish_version_2(live)
    again = launch(live, LEARNER, "Microcred: welcome")
    assert attempt_id(again.post(f"/work/{HINGE}/start").text) == attempt
    assert _version_number(live, attempt) == 1
