"""Site administration → Service faults: a site administrator sets the faults the LMS's services
inject, or turns them all off; every page says so while any is on."""

from __future__ import annotations

import requests

from app.db import get_db
from app.devlms import faults
from tests.support.lms import LmsUser
from tests.support.score_sender import INSTRUCTOR, ScoreSender

ADMIN = "alex.admin@example.edu"
PAGE = "/admin/service-faults"


def stored(live) -> faults.Faults:
    with get_db(live.devlms).begin() as session:
        return faults.stored_faults(session)


def save(live, user: LmsUser, **typed: str) -> requests.Response:
    form = {name: "" for name in faults.LABELS} | typed
    return user.http.post(f"{live.devlms_url}{PAGE}", data=form, timeout=30)


def test_site_admin_sees_the_form_with_the_values_in_force(live):
    with get_db(live.devlms).begin() as session:
        faults.set_faults(session, latency_ms=50, throttle_rate=0.1, retry_after_seconds=4)
    page = LmsUser(live, ADMIN).http.get(f"{live.devlms_url}{PAGE}", timeout=30)
    assert page.status_code == 200
    assert "<h1>Service faults</h1>" in page.text
    assert 'id="latency_ms" name="latency_ms" value="50"' in page.text
    assert 'id="throttle_rate" name="throttle_rate" value="0.1"' in page.text
    assert "10 % of requests answered 429 with Retry-After: 4" in page.text


def test_saved_faults_are_in_force_at_once(live):
    sender = ScoreSender(live)  # its token first: the token endpoint is throttled too
    response = save(live, LmsUser(live, ADMIN), throttle_rate="1", retry_after_seconds="9")
    assert response.status_code == 200
    assert "Saved." in response.text
    assert stored(live) == faults.Faults(throttle_rate=1.0, retry_after_seconds=9)
    refused = sender.post()
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "9"


def test_rate_above_one_is_refused_with_a_message_and_nothing_changes(live):
    with get_db(live.devlms).begin() as session:
        before = faults.set_faults(session, latency_ms=20)
    response = save(live, LmsUser(live, ADMIN), latency_ms="100", server_error_rate="30")
    assert response.status_code == 400
    assert "Nothing was changed." in response.text
    assert "did you mean 0.3?" in response.text
    assert 'value="30"' in response.text  # what was typed, to correct
    assert stored(live) == before


def test_latency_beyond_a_minute_is_refused(live):
    response = save(live, LmsUser(live, ADMIN), latency_ms="90000")
    assert response.status_code == 400
    assert "from 0 to 60000" in response.text
    assert stored(live) == faults.OFF


def test_retry_after_beyond_an_hour_is_refused(live):
    response = save(live, LmsUser(live, ADMIN), throttle_rate="0.5", retry_after_seconds="7200")
    assert response.status_code == 400
    assert "from 0 to 3600" in response.text
    assert stored(live) == faults.OFF


def test_turn_all_faults_off(live):
    with get_db(live.devlms).begin() as session:
        faults.set_faults(session, latency_ms=80, unauthorized_rate=0.5, retry_after_seconds=5)
    admin = LmsUser(live, ADMIN)
    response = admin.http.post(f"{live.devlms_url}{PAGE}/off", timeout=30)
    assert response.status_code == 200
    assert "All faults are off" in response.text
    assert not stored(live).on
    assert 'id="faults-banner"' not in response.text


def test_teacher_is_refused_the_faults_page(live):
    teacher = LmsUser(live, INSTRUCTOR)
    assert teacher.http.get(f"{live.devlms_url}{PAGE}", timeout=30).status_code == 403
    assert save(live, teacher, throttle_rate="1").status_code == 403
    assert stored(live) == faults.OFF


def test_faults_page_needs_a_user(live):
    assert requests.get(f"{live.devlms_url}{PAGE}", timeout=30).status_code == 403
    assert requests.post(f"{live.devlms_url}{PAGE}/off", timeout=30).status_code == 403


def test_banner_shows_on_the_course_and_gradebook_pages_while_faults_are_on(live):
    with get_db(live.devlms).begin() as session:
        faults.set_faults(session, server_error_rate=0.3)
    teacher = LmsUser(live, INSTRUCTOR)
    course = teacher.course_id()
    for path in (f"/courses/{course}", f"/courses/{course}/gradebook"):
        page = teacher.http.get(f"{live.devlms_url}{path}", timeout=30)
        assert 'id="faults-banner"' in page.text, path
        assert "30 % of requests answered 500, 502 or 503" in page.text


def test_no_banner_while_faults_are_off(live):
    teacher = LmsUser(live, INSTRUCTOR)
    page = teacher.http.get(f"{live.devlms_url}/courses/{teacher.course_id()}", timeout=30)
    assert 'id="faults-banner"' not in page.text


def test_latency_alone_shows_the_banner(live):
    with get_db(live.devlms).begin() as session:
        faults.set_faults(session, latency_ms=50)
    page = LmsUser(live, ADMIN).http.get(f"{live.devlms_url}/", timeout=30)
    assert "50 ms added to every service request" in page.text
    assert f'href="{PAGE}"' in page.text  # a site admin can go and change them


def test_the_canvas_rate_limit_is_shown_and_set_on_the_page(live):
    from tests.support.lms import set_flavour

    set_flavour(live, "canvas")
    sender = ScoreSender(live)
    assert sender.post().status_code == 200
    admin = LmsUser(live, ADMIN)
    page = admin.http.get(f"{live.devlms_url}{PAGE}", timeout=30)
    assert "Per client: 11 requests in flight at once, the next refused" in page.text
    assert 'id="canvas_hwm" name="canvas_hwm" value="600"' in page.text
    assert "<td>1</td><td>1</td><td>0</td>" in page.text  # most at once, served, refused
    response = save(live, admin, canvas_hwm="100")
    assert response.status_code == 200
    assert "Per client: 1 request in flight at once, the next refused" in response.text
    assert stored(live).canvas_rate_limit.hwm == 100
