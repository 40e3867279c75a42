"""Deep Linking end to end over HTTP: an instructor opens the picker from the development LMS,
chooses credentials, the tool's signed answer is verified by the LMS, which creates links and
gradebook columns; launching a link lands on its credential; an activity without a credential
is bound by an instructor (LTI-CHECKLIST F, issue 7). Course copy: test_course_copy.py."""

from __future__ import annotations

import re
from html import unescape

import jwt
import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevLineItem, DevLink
from app.linking.models import LinkedCredential
from tests.support.catalog import seed_sample_catalog
from tests.support.forge import Forge
from tests.support.lms import LmsUser, bridge_data, forms, submit
from tests.support.tokens import demo_tool

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
INSTRUCTOR = "maria.alvarez@example.edu"
LEARNER = "jordan.lee@example.edu"
HINGE = "questioning-to-check-for-understanding"
FRACTIONS = "fraction-number-line-reasoning"


@pytest.fixture
def catalog(live):
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)


def _deep_link(live, email: str = INSTRUCTOR) -> tuple[LmsUser, requests.Response]:
    """Start a Deep Linking launch from the course's add-an-activity screen."""
    user = LmsUser(live, email)
    tool = demo_tool(live)
    initiation = user.initiation(f"/launch/deep-link/{user.course_id()}/{tool.id}")
    return user, user.complete(initiation)


def _choose(user: LmsUser, picker: requests.Response, **fields) -> requests.Response:
    form = next(f for f in forms(picker.text) if f.method == "post")
    keep = {"lt", "q", "whole_stack"}  # the hidden and text fields; the test chooses the rest
    data = {k: v for k, v in form.fields.items() if k in keep}
    data.update(fields)
    return user.http.post(picker.url.split("?")[0], data=data, timeout=30)


def _answer(page: requests.Response) -> tuple[str, dict]:
    """The return page's form: where it posts, and the verified claims of its JWT."""
    form = forms(page.text)[0]
    return form.action, form.fields


def _verify(live, token: str) -> dict:
    keys = requests.get(f"{live.tool_url}/.well-known/jwks.json", timeout=30).json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in keys["keys"] if k["kid"] == kid))
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=live.devlms_url)


def test_the_picker_lists_the_catalog_for_an_instructor(live, catalog):
    _, picker = _deep_link(live)
    assert picker.status_code == 200, picker.text
    assert "/lti/deep-link" in picker.url
    assert "10 micro-credentials" in picker.text
    assert 'type="checkbox"' in picker.text  # the LMS accepts several at once
    assert "The latest published version (recommended)" in picker.text


def test_the_picker_over_an_empty_catalog_says_so(live):
    _, picker = _deep_link(live)
    assert picker.status_code == 200, picker.text
    assert "The catalog has no published micro-credentials yet" in picker.text
    assert "Nothing matches" not in picker.text


def test_two_chosen_credentials_become_links_and_gradebook_columns(live, catalog):
    user, picker = _deep_link(live)
    answer = _choose(
        user,
        picker,
        credential=[HINGE, FRACTIONS],
        points="50",
        graded="1",
        version="pin",
        action="add",
    )
    assert answer.status_code == 200, answer.text
    action, fields = _answer(answer)
    claims = _verify(live, fields["JWT"])
    tool = demo_tool(live)
    assert claims["iss"] == tool.client_id and claims["aud"] == live.devlms_url
    assert claims[LTI + "deployment_id"] == tool.deployment_id
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    request = jwt.decode(_dl_id_token(live, user), options={"verify_signature": False})[
        DL + "deep_linking_settings"
    ]
    assert action == request["deep_link_return_url"]
    items = claims[DL + "content_items"]
    assert [i["custom"]["microcred_credential"] for i in items] == [HINGE, FRACTIONS]
    assert items[0]["custom"]["microcred_version"] == "1"
    assert items[0]["lineItem"] == {
        "scoreMaximum": 50,
        "label": items[0]["title"],
        "resourceId": HINGE,
        "tag": "microcred",
    }
    assert items[0]["url"] == f"{live.tool_url}/lti/launch"
    # The LMS verifies the answer (signature, aud, deployment, data) and creates the links.
    returned = user.http.post(action, data=fields, timeout=30)
    assert returned.status_code == 200, returned.text
    with get_db(live.devlms).begin() as session:
        seeded = {"Microcred: welcome", "Micro-credential: Formative Assessment"}
        links = session.scalars(select(DevLink).where(DevLink.title.not_in(seeded))).all()
        assert sorted(link.custom["microcred_credential"] for link in links) == [FRACTIONS, HINGE]
        columns = session.scalars(
            select(DevLineItem).where(DevLineItem.resource_id.in_([HINGE, FRACTIONS]))
        ).all()
        assert sorted(c.resource_id for c in columns) == sorted([HINGE, FRACTIONS])
        assert {c.score_maximum for c in columns} == {50.0}


def _dl_id_token(live, user: LmsUser) -> str:
    """A fresh Deep Linking id_token for ``user`` (to read the request's settings)."""
    tool = demo_tool(live)
    initiation = user.initiation(f"/launch/deep-link/{user.course_id()}/{tool.id}")
    login = submit(user.http, live.devlms_url, initiation)
    auth = user.http.get(bridge_data(login.text)["next"], timeout=30)
    return forms(auth.text)[0].fields["id_token"]


def test_cancel_answers_with_no_items_and_a_message(live, catalog):
    user, picker = _deep_link(live)
    answer = _choose(user, picker, action="cancel")
    claims = _verify(live, _answer(answer)[1]["JWT"])
    assert claims[DL + "content_items"] == []
    assert claims[DL + "msg"] == "Nothing was added."


def test_choosing_nothing_is_a_400_that_keeps_the_page(live, catalog):
    user, picker = _deep_link(live)
    answer = _choose(user, picker, action="add")
    assert answer.status_code == 400
    assert "Choose at least one micro-credential" in answer.text
    bad_points = _choose(user, picker, credential=[HINGE], points="lots", action="add")
    assert bad_points.status_code == 400
    assert "Points must be a number above 0" in bad_points.text


def test_a_whole_stack_is_one_link_per_credential(live, catalog):
    user, picker = _deep_link(live)
    stack = "mathematics-teaching-practices-grades-3-5"
    filtered = user.http.get(
        picker.url.split("?")[0],
        params={"lt": forms(picker.text)[0].fields["lt"], "stack": stack},
        timeout=30,
    )
    assert "Add the whole stack (2)" in filtered.text
    answer = _choose(user, filtered, action="stack", graded="1")
    items = _verify(live, _answer(answer)[1]["JWT"])[DL + "content_items"]
    assert len(items) == 2
    assert all(i["custom"]["microcred_version"] == "latest" for i in items)


def test_a_learner_cannot_open_the_picker(live, catalog):
    """Deep Linking is for instructors: a learner's Deep Linking launch is a 403 with a message."""
    forge = Forge(live, LEARNER)
    pending = _pending_deep_link(live, INSTRUCTOR)
    claims = pending.claims
    learner = LmsUser(live, LEARNER)
    claims[LTI + "roles"] = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
    claims["sub"] = learner.sub
    response = pending.post(forge.sign(claims))
    assert response.status_code == 403
    assert "Only the course's teachers, designers and administrators can add" in unescape(
        response.text
    )


def _pending_deep_link(live, email: str):
    from tests.support.forge import PendingLaunch

    user = LmsUser(live, email)
    tool = demo_tool(live)
    initiation = user.initiation(f"/launch/deep-link/{user.course_id()}/{tool.id}")
    login = submit(user.http, live.devlms_url, initiation)
    auth = user.http.get(bridge_data(login.text)["next"], timeout=30)
    form = forms(auth.text)[0]
    return PendingLaunch(
        user=user, action=form.action, state=form.fields["state"], id_token=form.fields["id_token"]
    )


def test_a_deep_linking_request_without_a_return_url_is_refused(live, catalog):
    forge = Forge(live)
    pending = _pending_deep_link(live, INSTRUCTOR)
    claims = pending.claims
    del claims[DL + "deep_linking_settings"]["deep_link_return_url"]
    response = pending.post(forge.sign(claims))
    assert response.status_code == 400
    assert "did not say where to send the choice" in response.text


def test_single_choice_when_the_lms_accepts_one_item(live, catalog):
    forge = Forge(live)
    pending = _pending_deep_link(live, INSTRUCTOR)
    claims = pending.claims
    claims[DL + "deep_linking_settings"]["accept_multiple"] = False
    picker = pending.post(forge.sign(claims))
    assert picker.status_code == 200, picker.text
    assert 'type="radio" id="credential-' in picker.text
    two = _choose(pending.user, picker, credential=[HINGE, FRACTIONS], action="add")
    assert two.status_code == 400
    assert "takes one micro-credential at a time" in two.text


def test_the_picker_is_not_for_a_course_activity_launch(live, catalog):
    """A message type not allowed at that URL: a resource link session opening the picker."""
    user = LmsUser(live, INSTRUCTOR)
    home = user.launch()
    token = re.search(r"[?&]lt=([^&\"]+)", home.url).group(1)
    picker = user.http.get(f"{live.tool_url}/lti/deep-link", params={"lt": token}, timeout=30)
    assert picker.status_code == 400
    assert "This page opens when you add Microcred to a course" in picker.text


# --- Launching the links -------------------------------------------------------------------------


def _add(live, user: LmsUser, slugs: list[str], **fields) -> None:
    _, picker = _deep_link(live, INSTRUCTOR)
    answer = _choose(user, picker, credential=slugs, action="add", graded="1", **fields)
    action, form_fields = _answer(answer)
    assert user.http.post(action, data=form_fields, timeout=30).status_code == 200


def _link_title(live, slug: str) -> str:
    with get_db(live.devlms).begin() as session:
        for link in session.scalars(select(DevLink)):
            if (link.custom or {}).get("microcred_credential") == slug:
                return link.title
    raise AssertionError(f"no link for {slug}")


def test_a_learner_launching_a_linked_activity_lands_on_its_credential(live, catalog):
    instructor = LmsUser(live, INSTRUCTOR)
    _add(live, instructor, [HINGE])
    learner = LmsUser(live, LEARNER)
    page = learner.launch(_link_title(live, HINGE))
    assert page.status_code == 200, page.text
    assert "/activity?lt=" in page.url
    assert "Your course asks you to earn this micro-credential." in page.text
    assert ">Questioning to Check for Understanding<" in page.text
    # The instructor sees who has opened it.
    home = instructor.launch(_link_title(live, HINGE))
    people = re.search(r'href="(/activity/people\?lt=[^"]+)"', home.text)
    assert people
    listing = instructor.http.get(live.tool_url + unescape(people.group(1)), timeout=30)
    assert listing.status_code == 200 and "Jordan Lee" in listing.text


def test_an_activity_without_a_credential_is_set_up_by_its_instructor(live, catalog):
    learner = LmsUser(live, LEARNER)
    waiting = learner.launch()
    assert "This activity is not set up yet" in waiting.text
    assert "Choose the micro-credential" not in waiting.text

    instructor = LmsUser(live, INSTRUCTOR)
    home = instructor.launch()
    choose = re.search(r'href="(/activity/choose\?lt=[^"]+)"', home.text)
    assert choose, "an instructor is offered the picker"
    picker = instructor.http.get(live.tool_url + unescape(choose.group(1)), timeout=30)
    assert picker.status_code == 200 and 'type="radio"' in picker.text
    bound = _choose(instructor, picker, credential=[HINGE], action="add")
    assert bound.status_code == 200 and "/activity?lt=" in bound.url
    assert "This activity stands for the micro-credential below" in bound.text

    again = learner.launch()
    assert ">Questioning to Check for Understanding<" in again.text


def test_a_learner_cannot_bind_an_activity(live, catalog):
    learner = LmsUser(live, LEARNER)
    home = learner.launch()
    token = re.search(r"[?&]lt=([^&\"]+)", home.url).group(1)
    refused = learner.http.post(
        f"{live.tool_url}/activity/choose",
        data={"lt": token, "credential": HINGE, "action": "add"},
        timeout=30,
    )
    assert refused.status_code == 403
    with get_db(live.tool).begin() as session:
        assert session.scalars(select(LinkedCredential)).all() == []
    with get_db(live.devlms).begin() as session:
        assert session.scalars(select(DevCourse)).first() is not None


SITE_ADMIN = "alex.admin@example.edu"
DESIGNER = "samuel.okafor@example.edu"


@pytest.mark.parametrize("flavour", ["canvas", "moodle"])
@pytest.mark.parametrize("who", ["designer", "admin"])
def test_a_course_designer_and_an_administrator_may_add_credentials(live, catalog, flavour, who):
    """canvas-as-it-is.md, "Roles": Canvas sends a course designer membership#ContentDeveloper and
    an account administrator who is not enrolled only institution/person#Administrator; Moodle a
    site administrator Instructor and both administrator roles. Each may add content in the LMS,
    and so in the picker."""
    from tests.grading.support import make_role
    from tests.support.lms import set_flavour

    set_flavour(live, flavour)
    if who == "designer":
        make_role(live, DESIGNER, "ContentDeveloper")
    _user, picker = _deep_link(live, DESIGNER if who == "designer" else SITE_ADMIN)
    assert picker.status_code == 200, unescape(picker.text)[:600]
    assert "Questioning to Check for Understanding" in picker.text


def test_the_lms_names_a_designers_and_an_administrators_roles_as_canvas_does(live):
    from tests.grading.support import make_role
    from tests.support.lms import set_flavour

    set_flavour(live, "canvas")
    make_role(live, DESIGNER, "ContentDeveloper")
    roles = {}
    for email in (DESIGNER, SITE_ADMIN):
        pending = _pending_deep_link(live, email)
        roles[email] = pending.claims[LTI + "roles"]
    assert roles[DESIGNER] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"]
    assert roles[SITE_ADMIN] == [
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
    ]
    set_flavour(live, "moodle")
    assert _pending_deep_link(live, SITE_ADMIN).claims[LTI + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
        "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
        "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator",
    ]
