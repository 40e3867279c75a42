"""Nothing in one instance's memory that another needs (DESIGN.md, "Deployment shapes"; issue 29).

Two instances of the tool take turns on one address (``live_pair``: a round robin in the test
process, state in Redis, evidence in S3), so consecutive requests of one flow reach different
instances: the login on one and the launch on the other, autosaves alternating, an upload's
chunks alternating, a review claimed on one and saved on the other, and a change made in the
console of one in force on the other at once. Each test checks from the balancer's record that
the steps did alternate."""

from __future__ import annotations

import os
import re
from itertools import pairwise

import requests
from sqlalchemy import select

from app.db import get_db
from app.evidence.storage import CHUNK_SIZE
from app.lti.models import Registration
from tests.admin.console import create_operator, csrf_from
from tests.evidence.conftest import launched
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, add_activity, attempt_id, launch
from tests.evidence.support import start as start_attempt
from tests.grading.support import claim, form_of, judgement, review_ids, state_of, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers
from tests.support.lms import LmsUser, field


def _alternate(instances: list[int]) -> bool:
    return len(instances) > 1 and all(a != b for a, b in pairwise(instances))


def _activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


def test_the_login_on_one_instance_and_the_launch_on_the_other(live_pair):
    page = LmsUser(live_pair, "priya.natarajan@example.edu").launch()
    assert page.status_code == 200, page.text
    assert field(page.text, "name") == "Priya Natarajan"
    balancer = live_pair.balancer
    [login] = balancer.instances_of("POST", "/lti/login")
    [launch_post] = balancer.instances_of("POST", "/lti/launch")
    assert login != launch_post


def test_autosaves_alternating_between_instances_each_build_on_the_last(live_pair):
    educator = launch(live_pair, LEARNER, _activity(live_pair))
    attempt = attempt_id(start_attempt(educator, HINGE).text)
    path = f"/work/attempts/{attempt}/answers/overview"
    for version, text in enumerate(("My class", "My class of 28", "My class of 28 and a hinge")):
        saved = educator.put_json(path, {"text": text, "version": version})
        assert saved.status_code == 200, saved.text
        assert saved.json()["version"] == version + 1
    stale = educator.put_json(path, {"text": "From an old tab", "version": 1})
    assert stale.status_code == 409
    page = educator.get(f"/work/{HINGE}")
    assert "My class of 28 and a hinge" in page.text
    assert _alternate(live_pair.balancer.instances_of("PUT", path))


def test_an_upload_whose_chunks_alternate_between_instances_arrives_whole(live_pair):
    educator = launched(live_pair, "jordan.lee@example.edu")
    content = b"%PDF-1.7\n" + os.urandom(CHUNK_SIZE + 5000)
    done = educator.upload("lesson.pdf", content, CHUNK_SIZE)
    assert done["state"] == "complete" and done["size"] == len(content)
    downloaded = educator.download(done["id"])
    assert downloaded.status_code == 200 and downloaded.content == content
    file_id = done["id"]
    steps = [
        n
        for n, method, path in live_pair.balancer.served
        if path.startswith("/api/evidence/") and method in {"POST", "PUT"}
    ]
    # start, two chunks, complete
    assert len(steps) == 4 and _alternate(steps), live_pair.balancer.served
    assert (
        len(live_pair.balancer.instances_of("PUT", f"/api/evidence/files/{file_id}/content")) == 2
    )


def test_a_review_claimed_on_one_instance_is_saved_on_the_other(live_pair):
    activity = _activity(live_pair)
    attempt = submitted(launch(live_pair, LEARNER, activity))
    reviewer = launch(live_pair, INSTRUCTOR, activity)
    page = claim(reviewer, attempt)
    assert page.status_code == 200, page.text[:500]
    review, version = review_ids(page.text)
    balancer = live_pair.balancer
    [claimed] = balancer.instances_of("POST", f"/review/attempts/{attempt}/claim")
    balancer.send_next_to(1 - claimed)
    saved = reviewer.post(
        f"/review/attempts/{attempt}/save",
        review=str(review),
        version=str(version),
        action="decide",
        **form_of(judgement(), "Well done."),
    )
    assert saved.status_code == 200 and "/decide" in saved.url, saved.text[:800]
    version_field = re.search(r'name="version" value="(\d+)"', saved.text)
    assert version_field
    decided = reviewer.post(
        f"/review/attempts/{attempt}/decide", version=version_field.group(1), action="confirm"
    )
    assert decided.status_code == 200, decided.text[:500]
    assert state_of(live_pair, attempt) == "earned"
    assert balancer.instances_of("POST", f"/review/attempts/{attempt}/save") == [1 - claimed]


def _console(live: LiveServers) -> requests.Session:
    """An operator signed in to the console through the pair."""
    create_operator(live.tool, password="correct horse battery staple")
    http = requests.Session()
    form = http.get(f"{live.tool_url}/admin/sign-in", timeout=30)
    signed_in = http.post(
        f"{live.tool_url}/admin/sign-in",
        data={
            "csrf_token": csrf_from(form.text),
            "email": "ada@example.org",
            "password": "correct horse battery staple",
        },
        timeout=30,
    )
    assert signed_in.status_code == 200 and "/admin/sign-in" not in signed_in.url
    return http


def test_a_platform_switched_off_on_one_instance_is_off_on_the_other_at_once(live_pair):
    assert LmsUser(live_pair, LEARNER).launch().status_code == 200  # both instances warm
    console = _console(live_pair)
    with get_db(live_pair.tool).begin() as session:
        uuid = session.scalars(select(Registration.uuid)).one()
    confirm = console.get(f"{live_pair.tool_url}/admin/platforms/{uuid}/status", timeout=30)
    switched = console.post(
        f"{live_pair.tool_url}/admin/platforms/{uuid}/status",
        data={"csrf_token": csrf_from(confirm.text), "active": "0"},
        timeout=30,
    )
    assert "?done=deactivated" in switched.url
    balancer = live_pair.balancer
    [switched_on] = balancer.instances_of("POST", f"/admin/platforms/{uuid}/status")
    balancer.send_next_to(1 - switched_on)
    refused = LmsUser(live_pair, LEARNER).launch()
    assert refused.status_code in {400, 403}, refused.text[:300]
    assert "Microcred is switched off" in refused.text
    assert balancer.instances_of("POST", "/lti/login")[-1] == 1 - switched_on


def test_a_key_rotated_on_one_instance_is_published_by_the_other_at_once(live_pair):
    console = _console(live_pair)
    before = requests.get(f"{live_pair.tool_url}/.well-known/jwks.json", timeout=30).json()
    keys_page = console.get(f"{live_pair.tool_url}/admin/keys", timeout=30)
    rotated = console.post(
        f"{live_pair.tool_url}/admin/keys/rotate",
        data={"csrf_token": csrf_from(keys_page.text), "overlap": "2d"},
        timeout=30,
    )
    assert "The next key is published" in rotated.text
    balancer = live_pair.balancer
    [rotated_on] = balancer.instances_of("POST", "/admin/keys/rotate")
    balancer.send_next_to(1 - rotated_on)
    after = requests.get(f"{live_pair.tool_url}/.well-known/jwks.json", timeout=30).json()
    assert len(after["keys"]) == len(before["keys"]) + 1
    assert balancer.instances_of("GET", "/.well-known/jwks.json")[-1] == 1 - rotated_on
