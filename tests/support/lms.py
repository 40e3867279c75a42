"""Drive the development LMS and the tool like a browser would, with ``requests``:
cookies kept, redirects followed, auto-submitting forms submitted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevLink, DevUser
from tests.support.live import LiveServers


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

    def link_id(self, title_starts: str) -> int:
        with get_db(self.live.devlms).begin() as session:
            return session.scalars(
                select(DevLink.id).where(DevLink.title.startswith(title_starts))
            ).one()

    def course_id(self) -> int:
        with get_db(self.live.devlms).begin() as session:
            return session.scalars(select(DevCourse.id)).one()

    def initiation(self, path: str) -> Form:
        """Load an iframe's source on the LMS and return the login-initiation form it posts."""
        response = self.http.get(f"{self.live.devlms_url}{path}", timeout=30)
        response.raise_for_status()
        return forms(response.text)[0]

    def launch(self, link_title: str = "Microcred: welcome") -> requests.Response:
        """Launch a course link the whole way: login initiation, OIDC auth, id_token post."""
        return self.complete(self.initiation(f"/launch/link/{self.link_id(link_title)}"))

    def complete(self, initiation: Form) -> requests.Response:
        """Login initiation → the tool's login bridge → LMS auth → id_token post → the tool.

        ``requests`` keeps the tool's state cookie, so the launch is proven by the cookie and
        the bridge's JavaScript is not needed (the browser tests run it)."""
        login = submit(self.http, self.live.devlms_url, initiation)
        if login.status_code != 200 or not bridge_data(login.text):
            return login
        auth_page = self.http.get(bridge_data(login.text)["next"], timeout=30)
        if auth_page.status_code != 200 or "autopost" not in auth_page.text:
            return auth_page
        return submit(self.http, auth_page.url, forms(auth_page.text)[0])


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
