"""The Deep Linking return, judged by the screen the request came from: Canvas's New assignment
takes one item and makes it a graded assignment, Add to module and Moodle's Select content take
several; the page says what was added, shows the tool's messages and links back (LTI-CHECKLIST
F, platform side). Responses are forged with the tool's key, so the tool's picker is not used."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevLineItem, DevLink
from tests.support.lms import LmsUser, deep_link_path, only_tool_id, set_flavour
from tests.support.tokens import DL, deep_linking_response, post_deep_linking_response

INSTRUCTOR = "maria.alvarez@example.edu"


def item(title: str, *, maximum: float | None = None, **extra) -> dict:
    content = {
        "type": "ltiResourceLink",
        "title": title,
        "url": "http://127.0.0.1:5000/lti/launch",
        "custom": {"microcred_credential": title.lower(), "microcred_version": "latest"},
        **extra,
    }
    if maximum is not None:
        content["lineItem"] = {
            "scoreMaximum": maximum,
            "label": f"{title} column",
            "resourceId": title.lower(),
            "tag": "microcredential",
        }
    return content


def request_from(live, placement: str) -> dict:
    """The claims of a Deep Linking request from ``placement``'s screen, as the instructor."""
    if placement != "select_content":
        set_flavour(live, "canvas")
    teacher = LmsUser(live, INSTRUCTOR)
    return teacher.id_token_claims(
        deep_link_path(teacher.course_id(), only_tool_id(live), placement)
    )


def links_titled(live, *titles: str) -> list[DevLink]:
    with get_db(live.devlms).begin() as session:
        links = session.scalars(select(DevLink).where(DevLink.title.in_(titles))).all()
        session.expunge_all()
        return list(links)


def column_of(live, link: DevLink) -> DevLineItem:
    with get_db(live.devlms).begin() as session:
        column = session.get(DevLineItem, link.line_item_id)
        assert column is not None
        session.expunge(column)
        return column


def test_new_assignment_refuses_two_items_and_adds_nothing(live):
    """accept_multiple false (Deep Linking 2.0 §4.4.1): one item at most."""
    claims = request_from(live, "assignment_selection")
    token = deep_linking_response(live, claims, [item("One", maximum=10), item("Two")])
    page = post_deep_linking_response(claims, token)
    assert page.status_code == 400
    assert "New assignment accepts one item (accept_multiple is false)" in page.text
    assert "returned 2" in page.text and "Nothing was added" in page.text
    assert re.search(r'href="/courses/\d+" target="_top">Back to Teaching with Evidence', page.text)
    assert links_titled(live, "One", "Two") == []


def test_new_assignment_creates_a_graded_assignment_worth_the_line_items_maximum(live):
    claims = request_from(live, "assignment_selection")
    page = post_deep_linking_response(
        claims, deep_linking_response(live, claims, [item("Questioning", maximum=40)])
    )
    assert page.status_code == 200, page.text
    assert "Created 1 assignment" in page.text
    [link] = links_titled(live, "Questioning")
    assert link.placement == "assignment"
    column = column_of(live, link)
    assert (column.label, column.score_maximum) == ("Questioning column", 40)
    assert (column.resource_id, column.tag) == ("questioning", "microcredential")
    assert column.resource_link_id == link.resource_link_id


def test_new_assignment_without_a_line_item_still_gets_a_gradebook_column(live):
    """A Canvas assignment is always a gradebook column."""
    claims = request_from(live, "assignment_selection")
    post_deep_linking_response(claims, deep_linking_response(live, claims, [item("Ungraded")]))
    [link] = links_titled(live, "Ungraded")
    column = column_of(live, link)
    assert (column.label, column.score_maximum) == ("Ungraded", 100)


def test_add_to_module_takes_several_items_as_module_links(live):
    claims = request_from(live, "link_selection")
    token = deep_linking_response(live, claims, [item("Alpha", maximum=5), item("Beta")])
    page = post_deep_linking_response(claims, token)
    assert page.status_code == 200, page.text
    assert "Added 2 activities" in page.text
    links = {link.title: link for link in links_titled(live, "Alpha", "Beta")}
    assert {link.placement for link in links.values()} == {"link"}
    assert links["Alpha"].line_item_id is not None and links["Beta"].line_item_id is None


def test_moodle_select_content_takes_several_items(live):
    claims = request_from(live, "select_content")
    token = deep_linking_response(live, claims, [item("Alpha"), item("Beta"), item("Gamma")])
    assert "Added 3 activities" in post_deep_linking_response(claims, token).text
    assert len(links_titled(live, "Alpha", "Beta", "Gamma")) == 3


def test_return_page_names_each_item_and_its_gradebook_column(live):
    claims = request_from(live, "link_selection")
    token = deep_linking_response(live, claims, [item("Alpha", maximum=5), item("Beta")])
    page = post_deep_linking_response(claims, token).text
    assert "<strong>Alpha</strong>: gradebook column “Alpha column”, out of 5" in page
    assert "<strong>Beta</strong></li>" in page


def test_cancel_shows_the_tools_message_and_links_back_to_the_course(live):
    """A cancelled picker answers with no content items and a message (DL 2.0 §4.5)."""
    claims = request_from(live, "assignment_selection")
    token = deep_linking_response(live, claims, [], **{DL + "msg": "No credential was chosen."})
    page = post_deep_linking_response(claims, token)
    assert page.status_code == 200
    assert "Nothing was added" in page.text
    assert "Message from the tool: No credential was chosen." in page.text
    assert re.search(r'href="/courses/\d+" target="_top">Back to Teaching with Evidence', page.text)


def test_tools_error_message_is_shown_as_an_alert(live):
    claims = request_from(live, "link_selection")
    token = deep_linking_response(
        live, claims, [], **{DL + "errormsg": "The catalog is unavailable."}
    )
    page = post_deep_linking_response(claims, token).text
    assert '<p class="error" role="alert">Error from the tool: The catalog is unavailable.' in page


def test_return_is_judged_by_the_requests_screen_even_after_a_flavour_change(live):
    """The placement travels in the signed data: switching the tool back to Moodle does not
    turn an assignment request into one that accepts several items."""
    claims = request_from(live, "assignment_selection")
    set_flavour(live, "moodle")
    token = deep_linking_response(live, claims, [item("One"), item("Two")])
    assert post_deep_linking_response(claims, token).status_code == 400
