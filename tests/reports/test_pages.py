"""The outcome reports' pages and downloads in the console (issue 24 part 1): each page's table
is the report's, its CSV exactly the rows shown; the filters come from the address; an
organisation admin sees their organisations' rows only, an author no report; a bad filter is a
400 with a message, never a 500."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest

from tests.admin.console import check_html
from tests.catalog.authoring_support import account, text_of
from tests.reports.support import World, build_world
from tests.reports.test_numbers import report

REPORT_NAMES = ("outcomes", "hours", "criteria", "timing")


class _Table(HTMLParser):
    """The cells of the page's report table (``table.report-table``), as text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and "report-table" in (dict(attrs).get("class") or ""):
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_of(html: str) -> list[list[str]]:
    """The header row and every row of the page's table; a dash shown for "none" read as an
    empty cell (as the CSV has it)."""
    parser = _Table()
    parser.feed(html)
    assert parser.rows, "the page has no report table"
    return [["" if cell == "—" else cell for cell in row] for row in parser.rows]


def csv_of(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.fixture
def world(app) -> World:
    return build_world(app)


@pytest.fixture
def operator(app, world):
    return account(app, "olive@example.org", operator=True)


@pytest.fixture
def lakemont_admin(app, world):
    return account(app, "ana@lakemont.example.org", memberships={"lakemont": "admin"})


def test_each_report_page_shows_the_reports_table_and_a_chart(app, world, operator):
    for name in REPORT_NAMES:
        page = operator.get(f"/admin/reports/{name}")
        assert page.status_code == 200, (name, page.text)
        check_html(page.text)
        shown = report(app, name)
        assert table_of(page.text) == [shown.table.headers, *map(list, shown.table.rows)]
        assert '<svg role="img"' in page.text and "<title" in page.text, name


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("outcomes", {}),
        ("outcomes", {"by": "course", "from": "2025-01-01"}),
        ("hours", {}),
        ("criteria", {"credential": "questioning"}),
        ("timing", {"by": "month"}),
    ],
)
def test_the_csv_is_exactly_the_table_shown(world, operator, name, args):
    page = operator.get(f"/admin/reports/{name}", query_string=args)
    download = operator.get(f"/admin/reports/{name}.csv", query_string=args)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert download.headers["Content-Disposition"].startswith(f'attachment; filename="{name}-')
    assert download.headers["Cache-Control"] == "no-store"
    assert csv_of(download.data) == table_of(page.text)
    assert len(table_of(page.text)) > 1


def test_the_filters_come_from_the_address_and_go_into_the_download_link(world, operator):
    page = operator.get(
        "/admin/reports/outcomes?from=2025-01-01&to=2025-01-31&by=organisation&stack=assessment"
    )
    assert table_of(page.text)[1:] == [["Lakemont Institute", "1", "2", "1", "0"]]
    assert 'name="from" type="date" value="2025-01-01"' in page.text
    assert 'name="to" type="date" value="2025-01-31"' in page.text
    assert '<option value="organisation" selected>' in page.text
    assert '<option value="assessment" selected>' in page.text
    assert (
        'href="/admin/reports/outcomes.csv?stack=assessment&amp;from=2025-01-01'
        '&amp;to=2025-01-31&amp;by=organisation"' in page.text
    )


def test_an_organisation_admin_sees_only_their_organisations_rows(world, lakemont_admin):
    page = lakemont_admin.get("/admin/reports/outcomes?by=organisation")
    assert page.status_code == 200
    assert table_of(page.text)[1:] == [["Lakemont Institute", "2", "5", "2", "2"]]
    assert "Riverbend" not in page.text and "River</option>" not in page.text
    for name in REPORT_NAMES:
        text = lakemont_admin.get(f"/admin/reports/{name}").text
        download = lakemont_admin.get(f"/admin/reports/{name}.csv").data.decode("utf-8-sig")
        assert "Riverbend" not in text + download and "River," not in download, name
    hours = table_of(lakemont_admin.get("/admin/reports/hours").text)
    assert [row[0] for row in hours[1:]] == ["Ann Archer", "Ben Brook"]  # Eve earned River


@pytest.mark.parametrize(
    "args", [{"organisation": "riverbend"}, {"credential": "river"}, {"organisation": "nowhere"}]
)
def test_an_organisation_admin_asking_for_another_organisation_is_refused(
    world, lakemont_admin, args
):
    for path in ("/admin/reports/outcomes", "/admin/reports/outcomes.csv"):
        response = lakemont_admin.get(path, query_string=args)
        assert response.status_code == 400
        assert "that you may report on" in text_of(response.text)


def test_an_author_has_no_reports(app, world):
    author = account(app, "lena@lakemont.example.org", memberships={"lakemont": "author"})
    response = author.get("/admin/reports/outcomes")
    assert response.status_code == 403
    assert "open to its admins" in text_of(response.text)
    assert author.get("/admin/reports/hours.csv").status_code == 403
    assert ">Reports</a>" not in author.get("/admin/catalog/").text


def test_operators_and_organisation_admins_find_reports_in_the_console(
    world, operator, lakemont_admin
):
    for client in (operator, lakemont_admin):
        index = client.get("/admin/reports/")
        assert index.status_code == 200
        check_html(index.text)
        assert ">Reports</a>" in index.text
        for name in REPORT_NAMES:
            assert f'href="/admin/reports/{name}"' in index.text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from": "2025-13-01"}, "“2025-13-01” is not a date."),
        ({"to": "yesterday"}, "“yesterday” is not a date."),
        ({"from": "2025-03-01", "to": "2025-02-01"}, "starts on 2025-03-01, after it ends"),
        ({"by": "weather"}, "cannot be grouped by “weather”"),
        ({"platform": "not-a-platform"}, "There is no platform “not-a-platform”"),
        ({"stack": "x" * 81}, "The field “stack”"),
    ],
)
def test_a_bad_filter_answers_400_with_a_message(world, operator, args, message):
    for path in ("/admin/reports/outcomes", "/admin/reports/outcomes.csv"):
        response = operator.get(path, query_string=args)
        assert response.status_code == 400, (path, response.text)
        assert message in text_of(response.text), text_of(response.text)


def test_a_bad_filter_on_the_page_keeps_the_form_to_correct_it(world, operator):
    page = operator.get("/admin/reports/timing?from=2025-03-01&to=2025-02-01")
    assert page.status_code == 400
    check_html(page.text)
    assert 'role="alert"' in page.text
    assert 'name="from" type="date" value="2025-03-01"' in page.text
    assert "report-table" not in page.text


def test_reports_without_groups_refuse_a_grouping(world, operator):
    response = operator.get("/admin/reports/hours?by=month")
    assert response.status_code == 400
