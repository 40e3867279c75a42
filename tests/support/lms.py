"""Drive the development LMS and the tool like a browser would, with ``requests``:
cookies kept, redirects followed, auto-submitting forms submitted."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import jwt
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevLink, DevTool, DevUser
from app.lti.models import Registration
from tests.support.live import LiveServers

DEMO_COURSE = "Teaching with Evidence"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower(), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def submit(http: requests.Session, base: str, form: Form) -> requests.Response:
    url = urljoin(base, form.action)
    if form.method == "post":
        return http.post(url, data=form.fields, timeout=30)
    return http.get(url, params=form.fields, timeout=30)


class LmsUser:
    """One person at one browser, signed in to the development LMS."""

    def __init__(self, live: LiveServers, email: str) -> None:
        self.live = live
        self.http = requests.Session()
        with get_db(live.devlms).begin() as session:
            user = session.scalars(select(DevUser).where(DevUser.email == email)).one()
            self.user_id, self.sub = user.id, user.sub
        response = self.http.post(
            f"{live.devlms_url}/act-as", data={"user_id": self.user_id}, timeout=30
        )
        response.raise_for_status()

    def link_id(self, title_starts: str, course_id: int | None = None) -> int:
        """Return the id of the link whose title starts so (in ``course_id``, when given: a
        course copy has links of the same titles)."""
        query = select(DevLink.id).where(DevLink.title.startswith(title_starts))
        if course_id is not None:
            query = query.where(DevLink.course_id == course_id)
        with get_db(self.live.devlms).begin() as session:
            return session.scalars(query).one()

    def course_id(self, title: str = DEMO_COURSE) -> int:
        """Return the id of the course titled ``title`` (the demo course by default)."""
        with get_db(self.live.devlms).begin() as session:
            return session.scalars(select(DevCourse.id).where(DevCourse.title == title)).one()

    def initiation(self, path: str) -> Form:
        """Load an iframe's source on the LMS and return the login-initiation form it posts."""
        response = self.http.get(f"{self.live.devlms_url}{path}", timeout=30)
        response.raise_for_status()
        return forms(response.text)[0]

    def launch(self, link_title: str = "Microcred: welcome") -> requests.Response:
        """Launch a course link the whole way: login initiation, OIDC auth, id_token post."""
        return self.complete(self.initiation(f"/launch/link/{self.link_id(link_title)}"))

    def deep_link(
        self,
        placement: str | None = None,
        *,
        course_id: int | None = None,
        tool_id: int | None = None,
    ) -> requests.Response:
        """Launch Deep Linking from a course's add screen the whole way, as an instructor who
        clicks "Add an activity" (Moodle, ``select_content``), "New assignment" (Canvas,
        ``assignment_selection``) or "Add to module" (Canvas, ``link_selection``); the tool's
        answer (its picker) is returned."""
        path = deep_link_path(
            course_id or self.course_id(), tool_id or only_tool_id(self.live), placement
        )
        return self.complete(self.initiation(path))

    def open_course_menu_item(
        self, *, course_id: int | None = None, tool_id: int | None = None
    ) -> requests.Response:
        """Launch a tool's course menu item (Canvas flavour) the whole way."""
        path = course_navigation_path(
            course_id or self.course_id(), tool_id or only_tool_id(self.live)
        )
        return self.complete(self.initiation(path))

    def authorize(self, initiation: Form, *, state: str | None = None) -> requests.Response:
        """Answer a login initiation as a tool would, without the tool: send the LMS's
        authorization endpoint every parameter it requires, with a made-up state and nonce and
        the initiation's message hint; return the LMS's answer."""
        client_id = initiation.fields["client_id"]
        with get_db(self.live.devlms).begin() as session:
            tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
            redirect_uri = tool.redirect_uris[0]
        params = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state or uuid.uuid4().hex,
            "nonce": uuid.uuid4().hex,
            "login_hint": initiation.fields["login_hint"],
            "lti_message_hint": initiation.fields["lti_message_hint"],
        }
        return self.http.get(f"{self.live.devlms_url}/auth", params=params, timeout=30)

    def authorization(self, path: str) -> Form:
        """Return the form the LMS would post to the tool (``id_token``, ``state``) for the launch
        that ``path`` starts, without the tool (``authorize``), so the LMS's claims can be read
        on their own."""
        page = self.authorize(self.initiation(path))
        assert page.status_code == 200, page.text
        return forms(page.text)[0]

    def id_token_claims(self, path: str) -> dict[str, Any]:
        """Return the claims of the id_token the LMS signs for the launch ``path`` starts."""
        token = self.authorization(path).fields["id_token"]
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
        return claims

    def copy_course(self, course_id: int | None = None) -> int:
        """Copy a course as its instructor ("Copy this course", confirmed); return the copy's id."""
        source = course_id or self.course_id()
        response = self.http.post(f"{self.live.devlms_url}/courses/{source}/copy", timeout=30)
        assert response.status_code == 200, response.text
        return int(urlsplit(response.url).path.rsplit("/", 1)[-1])

    def _cell_form(
        self, course_id: int, line_item_id: int, learner_email: str, action: str
    ) -> Form:
        """The form of ``action`` (``override``, ``override/remove``) in a learner's cell of
        the course's gradebook page, as a teacher finds it there."""
        page = self.http.get(f"{self.live.devlms_url}/courses/{course_id}/gradebook", timeout=30)
        with get_db(self.live.devlms).begin() as session:
            learner = session.scalars(
                select(DevUser.id).where(DevUser.email == learner_email)
            ).one()
        wanted = {"line_item_id": str(line_item_id), "user_id": str(learner)}
        for form in forms(page.text) if page.status_code == 200 else ():
            if (
                form.action.endswith(f"/gradebook/{action}")
                and wanted.items() <= form.fields.items()
            ):
                return form
        # Not offered to this person (a learner): post what a teacher's form would.
        return Form(f"/courses/{course_id}/gradebook/{action}", "post", dict(wanted))

    def override_grade(
        self, course_id: int, line_item_id: int, learner_email: str, grade: str
    ) -> requests.Response:
        """Type ``grade`` (points of the column; empty: no grade) into a learner's cell of the
        gradebook and save it, as a teacher overrides a grade in Moodle's grader report or
        enters one in Canvas's gradebook."""
        form = self._cell_form(course_id, line_item_id, learner_email, "override")
        form.fields["grade"] = grade
        return submit(self.http, self.live.devlms_url, form)

    def remove_override(
        self, course_id: int, line_item_id: int, learner_email: str
    ) -> requests.Response:
        """Remove a teacher's override of a learner's cell (Moodle: untick "Overridden")."""
        form = self._cell_form(course_id, line_item_id, learner_email, "override/remove")
        return submit(self.http, self.live.devlms_url, form)

    def complete(self, initiation: Form) -> requests.Response:
        """Login initiation → the tool's login bridge → LMS auth → id_token post → the tool
        (``complete_launch`` in this browser)."""
        return complete_launch(self.http, self.live, initiation)


def complete_launch(
    http: requests.Session, live: LiveServers, initiation: Form
) -> requests.Response:
    """Login initiation → the tool's login bridge → LMS auth → id_token post → the tool, in the
    browser ``http``.

    ``requests`` keeps the tool's state cookie, so the launch is proven by the cookie and the
    bridge's JavaScript is not needed (the browser tests run it). A launch that answers with its
    page gives the page its address by script (``lti/landing.js``); the answer's ``url`` is set
    to it, as a browser's address bar would be."""
    login = submit(http, live.devlms_url, initiation)
    if login.status_code != 200 or not bridge_data(login.text):
        return login
    auth_page = http.get(bridge_data(login.text)["next"], timeout=30)
    if auth_page.status_code != 200 or "autopost" not in auth_page.text:
        return auth_page
    return with_landing_address(submit(http, auth_page.url, forms(auth_page.text)[0]))


def landing_address(html: str) -> str | None:
    """The address a page answered by a launch gives itself (``lti/landing.js``), if any."""
    match = re.search(r'<script src="[^"]*/landing\.js" data-address="([^"]*)"', html)
    return unescape(match.group(1)) if match else None


def with_landing_address(response: requests.Response) -> requests.Response:
    """``response`` with the address its page gives itself, as a browser's would show it."""
    address = landing_address(response.text)
    if address is not None:
        response.url = urljoin(response.url, address)
    return response


def resource_link_id(live: LiveServers, title: str) -> str:
    """Return the LMS's resource link id of the course link titled ``title``."""
    with get_db(live.devlms).begin() as session:
        return session.scalars(select(DevLink.resource_link_id).where(DevLink.title == title)).one()


def field(html: str, name: str) -> str:
    match = re.search(rf'data-field="{name}">(.*?)</dd>', html, re.S)
    assert match, f"no field {name} in page"
    return match.group(1).strip()


def bridge_data(html: str) -> dict[str, str]:
    """Return the ``data-*`` attributes of a launch bridge page (empty if it is not one)."""
    match = re.search(r'<div id="launch-bridge"([^>]*)>', html)
    if not match:
        return {}
    return {
        name.replace("-", "_"): unescape(value)
        for name, value in re.findall(r'data-([\w-]+)="([^"]*)"', match.group(1))
    }


def deep_link_path(course_id: int, tool_id: int, placement: str | None = None) -> str:
    """The LMS path an add screen's iframe loads (``placement``: ``select_content``,
    ``assignment_selection``, ``link_selection``; the tool's flavour's default when ``None``)."""
    path = f"/launch/deep-link/{course_id}/{tool_id}"
    return f"{path}/{placement}" if placement else path


def course_navigation_path(course_id: int, tool_id: int) -> str:
    """The LMS path the course menu item's iframe loads (Canvas's course_navigation)."""
    return f"/launch/course-navigation/{course_id}/{tool_id}"


def only_tool_id(live: LiveServers) -> int:
    """Return the id of the LMS's one registered tool (the demo's)."""
    with get_db(live.devlms).begin() as session:
        return session.scalars(select(DevTool.id)).one()


def set_flavour(live: LiveServers, flavour: str, tool_id: int | None = None) -> None:
    """Make the LMS behave like ``flavour`` (``moodle``, ``canvas``, ``canvas_mobile``) towards a
    tool, as the home page's "Behave like" form does."""
    response = requests.post(
        f"{live.devlms_url}/tools/{tool_id or only_tool_id(live)}/flavour",
        data={"flavour": flavour},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def behave_like(live: LiveServers, flavour: str, *, family: str | None = None) -> None:
    """Make the LMS behave like ``flavour`` (``set_flavour``) and register it in the tool as
    that LMS family (``canvas`` for both Canvas flavours; ``family`` to say otherwise, e.g.
    ``generic``), so that the tool applies that LMS's quirks."""
    set_flavour(live, flavour)
    with get_db(live.tool).begin() as session:
        registration = session.scalars(select(Registration)).one()
        registration.platform_family = family or ("moodle" if flavour == "moodle" else "canvas")


def return_url_and_data(claims: dict[str, Any]) -> tuple[str, str | None]:
    """Return ``(deep_link_return_url, data)`` from a Deep Linking request's claims (Canvas
    sends no ``data``)."""
    settings = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
    return settings["deep_link_return_url"], settings.get("data")
