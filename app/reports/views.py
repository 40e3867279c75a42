"""The reports' pages in the console (``/admin/reports``): an index, then each report as a
page (``/admin/reports/outcomes``…) and its table as CSV (``…/outcomes.csv``), filtered by the
query string so that an address can be bookmarked and shared.

For operators and organisation admins (``services.scope_of`` refuses everyone else). A filter
the reader may not use is a 400: the page shows the form again with the message beside it; the
CSV answers with the error page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from app import inputs
from app.admin import console
from app.catalog import authoring
from app.db import db_session
from app.reports import services
from app.reports.filters import GROUPS, Filters, InvalidFilter
from app.reports.tables import csv_bytes, csv_filename

bp = Blueprint("reports", __name__, template_folder="templates")
console.attach(bp, operators_only=False)


def _scope() -> services.Scope:
    return services.scope_of(authoring.rights_of(db_session(), console.current_account()))


@bp.get("/reports/")
def index() -> str:
    _scope()
    return render_template("reports/index.html")


def _group_options(groups: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(group, GROUPS[group].lower()) for group in groups]


def _page(name: str) -> tuple[str, int]:
    session = db_session()
    scope = _scope()
    make, groups = services.REPORTS[name]
    typed = {key: request.args.get(key, "") for key in (*FIELDS, "by")}
    try:
        filters = Filters.parse(request.args, groups=groups)
        chosen = services.selection(session, scope, filters)
    except (InvalidFilter, inputs.BadInput) as exc:
        page = render_template(
            f"reports/{name}.html",
            name=name,
            report=None,
            error=exc,
            errors={exc.field: exc.message},
            typed=typed,
            choices=services.choices(session, scope),
            group_options=_group_options(groups),
            filters=None,
        )
        return page, exc.status
    report = make(session, chosen)
    page = render_template(
        f"reports/{name}.html",
        name=name,
        report=report,
        error=None,
        errors={},
        typed=typed,
        choices=services.choices_of(chosen.outline, chosen.platforms),
        group_options=_group_options(groups),
        filters=filters,
        query=filters.query_args(groups[0] if groups else ""),
    )
    return page, 200


def _csv(name: str) -> Response:
    session = db_session()
    scope = _scope()
    make, groups = services.REPORTS[name]
    chosen = services.selection(session, scope, Filters.parse(request.args, groups=groups))
    report = make(session, chosen)
    return Response(
        csv_bytes(report.table),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{csv_filename(name)}"',
            # Names and emails of educators: never kept in a shared cache.
            "Cache-Control": "no-store",
        },
    )


FIELDS = ("organisation", "platform", "stack", "credential", "from", "to")
"""The filters every report takes (the grouped ones also take ``by``)."""


@bp.get("/reports/outcomes")
def outcomes() -> tuple[str, int]:
    return _page("outcomes")


@bp.get("/reports/outcomes.csv")
def outcomes_csv() -> Response:
    return _csv("outcomes")


@bp.get("/reports/hours")
def hours() -> tuple[str, int]:
    return _page("hours")


@bp.get("/reports/hours.csv")
def hours_csv() -> Response:
    return _csv("hours")


@bp.get("/reports/criteria")
def criteria() -> tuple[str, int]:
    return _page("criteria")


@bp.get("/reports/criteria.csv")
def criteria_csv() -> Response:
    return _csv("criteria")


@bp.get("/reports/timing")
def timing() -> tuple[str, int]:
    return _page("timing")


@bp.get("/reports/timing.csv")
def timing_csv() -> Response:
    return _csv("timing")
