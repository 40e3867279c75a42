"""The educator's catalog inside a launch: browse, search, filter, a credential's page with
everything to know before starting, a stack's page; Markdown never runs script (issue 6)."""

from __future__ import annotations

import itertools
import re
from html import unescape

import pytest
import requests
from sqlalchemy import event

from app.catalog.exchange import import_catalog
from app.db import get_db
from tests.catalog.test_exchange import catalog, version
from tests.support.catalog import seed_sample_catalog
from tests.support.lms import LmsUser, bridge_data, forms, submit


@pytest.fixture
def launched(live):
    """A learner's launch: (http session, the catalog's URL with the session token)."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    user = LmsUser(live, "jordan.lee@example.edu")
    login = submit(
        user.http,
        live.devlms_url,
        user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}"),
    )
    auth = user.http.get(bridge_data(login.text)["next"], timeout=30)
    home = submit(user.http, auth.url, forms(auth.text)[0])
    link = re.search(r'href="(/catalog\?lt=[^"]+)"', home.text)
    assert link, "the home page links to the catalog"
    return user.http, live.tool_url + unescape(link.group(1))


def _get(http: requests.Session, url: str, **params) -> requests.Response:
    return http.get(url, params=params, timeout=30)


def test_catalog_lists_every_published_credential(launched):
    http, url = launched
    page = _get(http, url)
    assert page.status_code == 200
    assert "10 micro-credentials" in page.text
    assert "Questioning to Check for Understanding" in page.text


def test_search_and_filters(launched):
    http, url = launched
    assert "1 micro-credential<" in _get(http, url, q="fraction number line").text
    by_stack = _get(http, url, stack="mathematics-teaching-practices-grades-3-5").text
    assert "2 micro-credentials" in by_stack and "Talk Moves" in by_stack
    assert "0 micro-credentials" in _get(http, url, q="zzzz-no-such").text
    assert "Nothing matches" in _get(http, url, q="100%_").text  # LIKE wildcards are literal
    assert_headings_in_order(_get(http, url).text)


def test_credential_page_shows_what_to_submit_and_the_rubric(launched):
    http, url = launched
    listing = _get(http, url).text
    link = re.search(
        r'href="(/catalog/credentials/questioning-to-check-for-understanding\?lt=[^"]+)"', listing
    )
    assert link
    page = http.get(url.split("/catalog")[0] + unescape(link.group(1)), timeout=30).text
    for heading in (
        "Competency",
        "Key method",
        "Supporting research",
        "What you will submit",
        "How it is judged",
    ):
        assert f">{heading}<" in page
    assert "Black, P., &amp; Wiliam, D. (1998)" in page
    assert "You earn the credential when every criterion is met." in page
    assert_headings_in_order(page)


def test_unknown_credential_is_a_404_page(launched):
    http, url = launched
    response = http.get(url.replace("/catalog?", "/catalog/credentials/nope?"), timeout=30)
    assert response.status_code == 404
    assert "no published micro-credential" in response.text


def test_the_catalog_needs_a_launch(live):
    response = requests.get(f"{live.tool_url}/catalog", timeout=30)
    assert response.status_code == 401


def test_stack_page_lists_its_credentials_in_order_and_its_milestone(launched):
    http, url = launched
    page = http.get(
        url.replace("/catalog?", "/catalog/stacks/formative-assessment-in-practice?"), timeout=30
    ).text
    order = [
        page.index(t)
        for t in ("Questioning to Check", "Feedback That Moves", "Data-Informed Small-Group")
    ]
    assert order == sorted(order)
    assert "Milestone" in page and "Formative Assessment Practitioner" in page
    assert_headings_in_order(page)


def assert_headings_in_order(page: str) -> None:
    """Issue 28 item 15: a heading is at most one level below the one before it (a screen
    reader's list of headings is the page's outline), starting at h1."""
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", page)]
    assert levels and levels[0] == 1, levels
    for before, level in itertools.pairwise(levels):
        assert level <= before + 1, f"h{before} then h{level}: {levels}"


def test_markdown_cannot_run_script(live, launched):
    http, url = launched
    document = catalog()
    document["organisations"][0]["slug"] = "evil-org"
    for credential in document["credentials"]:
        credential["organisation"] = "evil-org"
    document["stacks"] = []
    document["credentials"] = [
        {
            "slug": "evil",
            "organisation": "evil-org",
            "versions": [
                version(
                    competency='<script>alert(1)</script> <img src=x onerror="alert(2)"> '
                    "[click](javascript:alert(3))",
                    key_method="<iframe src=https://evil.example></iframe>",
                )
            ],
        }
    ]
    with get_db(live.tool).begin() as session:
        import_catalog(session, document)
    page = http.get(url.replace("/catalog?", "/catalog/credentials/evil?"), timeout=30).text
    assert "<script>alert" not in page and "<img" not in page and "<iframe" not in page
    assert "javascript:" not in page.replace("[click](javascript:alert(3))", "")
    assert "&lt;script&gt;" in page


def test_catalog_statement_count_does_not_grow_with_the_catalog(live, launched):
    http, url = launched
    engine = get_db(live.tool).engine
    current = [0]

    def _count(*_args):
        current[0] += 1

    def statements() -> int:
        current[0] = 0
        assert _get(http, url, q="the").status_code == 200
        return current[0]

    event.listen(engine, "before_cursor_execute", _count)
    try:
        before = statements()
        more = catalog()
        more["organisations"][0]["slug"] = "more-org"
        more["stacks"] = []
        more["credentials"] = [
            {
                "slug": f"extra-{n}",
                "organisation": "more-org",
                "versions": [version(title=f"The extra {n}")],
            }
            for n in range(60)
        ]
        with get_db(live.tool).begin() as session:
            import_catalog(session, more)
        after = statements()
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert before == after, (before, after)


def test_the_catalog_and_a_credentials_page_show_its_badge(launched):
    http, url = launched
    origin = url.split("/catalog")[0]
    listing = _get(http, url).text
    badge = re.search(
        r'<img class="badge" src="(/catalog/images/[0-9a-f]{64}\.svg)" '
        r'alt="Badge: Questioning to Check for Understanding" width="72" height="72">',
        listing,
    )
    assert badge, "each listed credential shows its badge"
    image = http.get(origin + badge.group(1), timeout=30)
    assert (image.status_code, image.headers["Content-Type"]) == (200, "image/svg+xml")
    link = re.search(
        r'href="(/catalog/credentials/questioning-to-check-for-understanding\?lt=[^"]+)"', listing
    )
    assert link
    page = http.get(origin + unescape(link.group(1)), timeout=30).text
    assert f'src="{badge.group(1)}" alt="Badge: Questioning to Check for Understanding"' in page
