"""The catalog sends as many SQL statements per request with 60 credentials as with 3: searches,
filters, pages and a credential's page cost a fixed number of queries, whatever the catalog's
size (issue 6). Counted in-process (the tool's Flask test client) inside a real launch."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from app.catalog.exchange import import_catalog
from app.db import get_db
from tests.catalog.test_exchange import catalog, version
from tests.support.lms import LmsUser, bridge_data, forms, submit
from tests.support.statements import statements_per_request

REQUESTS = {
    "no filter": ("/catalog", {}),
    "one word": ("/catalog", {"q": "questioning"}),
    "two words": ("/catalog", {"q": "formative questioning"}),
    "stack": ("/catalog", {"stack": "assessment"}),
    "tag": ("/catalog", {"tag": "assessment"}),
    "hours": ("/catalog", {"hours": "8"}),
    "page 2": ("/catalog", {"page": "2"}),
    "credential page": ("/catalog/credentials/formative-questioning", {}),
    "stack page": ("/catalog/stacks/assessment", {}),
}


@pytest.fixture
def token(live) -> str:
    """The session token of an instructor's launch (the catalog link on the landing page)."""
    user = LmsUser(live, "maria.alvarez@example.edu")
    link = f"/launch/link/{user.link_id('Microcred: welcome')}"
    login = submit(user.http, live.devlms_url, user.initiation(link))
    auth = user.http.get(bridge_data(login.text)["next"], timeout=30)
    home = submit(user.http, auth.url, forms(auth.text)[0])
    found = re.search(r'href="/catalog\?lt=([^"]+)"', home.text)
    assert found, "the landing page links to the catalog"
    return unescape(found.group(1))


def _credentials(first: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "slug": f"extra-{n}",
            "organisation": "friday-institute",
            "versions": [version(title=f"Formative questioning, part {n}")],
        }
        for n in range(first, first + count)
    ]


def _import(live, credentials: list[dict[str, Any]], stacked: int = 0) -> None:
    """Import the two credentials of ``catalog()`` and ``credentials``; the stack holds
    ``formative-questioning`` and ``extra-0`` to ``extra-{stacked - 1}``."""
    document = catalog()
    document["credentials"] += credentials
    extras = [f"extra-{n}" for n in range(stacked)]
    document["stacks"][0]["credentials"] = ["formative-questioning", *extras]
    with get_db(live.tool).begin() as session:
        import_catalog(session, document)


def _statements(live, token: str, kinds: list[str] | None = None) -> dict[str, int]:
    return statements_per_request(live, token, {k: REQUESTS[k] for k in kinds or REQUESTS})


def test_statements_per_request_do_not_grow_with_the_catalog(live, token):
    _import(live, _credentials(0, 1))  # 3 credentials
    small = _statements(live, token)
    _import(live, _credentials(1, 57))  # 60 credentials
    large = _statements(live, token)
    assert small == large


def test_stack_page_statements_do_not_grow_with_the_stack(live, token):
    _import(live, _credentials(0, 20))
    one = _statements(live, token, ["stack page"])
    _import(live, [], stacked=20)
    twenty_one = _statements(live, token, ["stack page"])
    assert one == twenty_one
