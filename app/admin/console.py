"""What every console page shares, whichever feature's blueprint it is in: the signed-in
account (server-side session, cookie scoped to ``/admin``), sign-in redirects, CSRF on every
POST, the session cookie's refresh, and the layout's helpers (navigation for what the account
may do).

Two kinds of account sign in here: operators, who run the instance, and authors, who only write
credentials for their issuer organisations. ``attach`` puts the guard on a blueprint;
``operators_only`` blueprints answer 403 to an author."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Blueprint, g, redirect, request, url_for
from werkzeug.wrappers import Response

from app.admin import runtime, services, sessions
from app.admin.models import Operator
from app.admin.schemas import FAMILY_LABELS, LABELS, SOURCE_LABELS
from app.db import db_session
from app.errors import Forbidden, Unauthorized, wants_json

# The console's navigation: (endpoint, label, for operators only).
NAV: list[tuple[str, str, bool]] = [
    ("admin.overview", "Overview", True),
    ("authoring.credentials", "Credentials", False),
    ("stack_authoring.stacks", "Stacks", False),
    ("authoring.organisations", "Organisations", False),
    ("grading_admin.assessors", "Assessors", True),
    ("grading_admin.turnaround", "Turnaround", True),
    ("grading_admin.gradebook", "Gradebook sync", True),
    ("reports.index", "Reports", True),
    ("badges_admin.awards", "Badges", False),
    ("admin.platforms", "Platforms", True),
    ("admin.add_platform", "Add a platform", True),
    ("admin.keys_page", "Keys", True),
    ("admin.registration_links_page", "Registration links", True),
    ("privacy_admin.records", "Records requests", True),
    ("admin.audit_log", "Audit log", True),
]

MAX_NEXT_CHARS = 2000
"""A console address longer than this is not carried through sign-in (``?next=``): it would
make a ``Location`` header that browsers and proxies refuse."""

ORGANISATION_ADMIN_PAGES = frozenset({"grading_admin.assessors", "reports.index"})
"""Operators-only entries of NAV that an organisation's admins see too."""


def home_for(account: Operator) -> str:
    """Return the page an account lands on after signing in."""
    return url_for("admin.overview" if account.is_operator else "authoring.credentials")


def current_account() -> Operator:
    """Return the signed-in account (every guarded page has one)."""
    account: Operator = g.operator
    return account


def current_actor() -> services.Actor:
    """Return the signed-in account as the actor of an audited change."""
    return services.Actor.of(current_account())


def attach(
    bp: Blueprint,
    *,
    operators_only: bool,
    public: Iterable[str] = (),
    open_to_all: Iterable[str] = (),
) -> None:
    """Guard every page of ``bp``: sign-in required (except ``public`` endpoints), CSRF on
    POST, and — when ``operators_only`` — operator powers (except ``open_to_all``)."""
    public_endpoints = frozenset(public)
    for_everyone = frozenset(open_to_all) | public_endpoints

    @bp.before_request
    def _require_account() -> Response | None:
        rt = runtime()
        g.operator = None
        g.admin_session = None
        session_id = sessions.cookie_session_id()
        if session_id:
            current = rt.sessions.read(session_id)
            if current is not None:
                account = services.operator_for_session(
                    db_session(), current.operator_id, current.fingerprint
                )
                if account is None:
                    rt.sessions.end(session_id)
                else:
                    g.operator, g.admin_session = account, current
        if g.operator is None and request.endpoint not in public_endpoints:
            if wants_json():
                raise Unauthorized("Sign in to the console first.", hint="Open /admin/sign-in.")
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            if target is not None and len(target) > MAX_NEXT_CHARS:
                target = None
            return redirect(url_for("admin.sign_in", next=target), code=303)
        if request.method == "POST":
            sessions.check_csrf(rt.settings.secret_key)
        if (
            operators_only
            and g.operator is not None
            and not g.operator.is_operator
            and request.endpoint not in for_everyone
        ):
            raise Forbidden(
                "This page is for the people who run this Microcred: your account writes "
                "credentials for an issuer organisation.",
                hint="Open Credentials to see the credentials you can edit.",
            )
        return None

    @bp.after_request
    def _session_cookie(response: Response) -> Response:
        return sessions.write_cookie(response, secure=runtime().secure_cookies)

    @bp.context_processor
    def _page_helpers() -> dict[str, Any]:
        account = g.get("operator")
        nav = [
            (endpoint, label)
            for endpoint, label, operator_only in NAV
            if account is not None
            and (
                account.is_operator
                or not operator_only
                or (endpoint in ORGANISATION_ADMIN_PAGES and _admins_an_organisation(account))
            )
        ]
        return {
            "csrf_token": lambda: sessions.csrf_token(runtime().settings.secret_key),
            "csrf_field": sessions.CSRF_FIELD,
            "nav": nav,
            "operator": account,
            "family_labels": FAMILY_LABELS,
            "source_labels": SOURCE_LABELS,
            "describe": _describe,
        }


def _admins_an_organisation(account: Operator) -> bool:
    """Tell whether a non-operator account is an admin of an organisation (once a request)."""
    if "admins_an_organisation" not in g:
        g.admins_an_organisation = runtime().admins_an_organisation(db_session(), account)
    return bool(g.admins_an_organisation)


def _describe(details: dict[str, Any] | None) -> list[str]:
    """Turn an audit event's details into short lines a person can read."""
    lines = []
    for key, value in (details or {}).items():
        label = LABELS.get(key, key.replace("_", " "))
        if isinstance(value, dict) and set(value) == {"from", "to"}:
            lines.append(f"{label}: {_show(value['from'])} → {_show(value['to'])}")
        else:
            lines.append(f"{label}: {_show(value)}")
    return lines


def _show(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)
