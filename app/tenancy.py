"""Tenant isolation: every LMS-owned row belongs to one platform registration, and once a
request is known to act for one platform, every ORM query in it sees only that platform's rows.

A request signed in by an LTI launch is scoped to the launch's registration (``require_launch``
does it); a query that must look across platforms says so with
``.execution_options(all_platforms=True)``. The operator console and the CLI act for no single
platform and are not scoped. Models opt in by inheriting ``PlatformOwned`` (they must have a
``registration_id`` column); the scope is added with ``with_loader_criteria``, so it applies to
joins, relationship loads and ORM bulk updates and deletes too.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, event
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)

ALL_PLATFORMS = "all_platforms"
_SCOPE = "platform_scope"


class PlatformOwned:
    """Marker for models whose rows belong to one platform (``registration_id``).

    Each model declares its own ``registration_id`` column; this one exists so that the single
    loader criterion below can be built against the marker class itself."""

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True
    )


def scope_to_platform(session: Session, registration_id: int) -> None:
    """From now on, this session's ORM queries see only rows of ``registration_id``."""
    session.info[_SCOPE] = registration_id


def platform_scope(session: Session) -> int | None:
    """The registration this session is scoped to, if any."""
    value = session.info.get(_SCOPE)
    return int(value) if value is not None else None


def scope_sessions_of(sessions: sessionmaker[Session]) -> None:
    """Make every session ``sessions`` makes honour ``scope_to_platform``.

    ``app.db.Database`` does it for the sessions it hands out. The listener is the factory's,
    not the ``Session`` class's: importing this module changes no session in the process."""
    event.listen(sessions, "do_orm_execute", _add_platform_criteria)


def _add_platform_criteria(state: ORMExecuteState) -> None:
    registration_id = state.session.info.get(_SCOPE)
    if registration_id is None or state.execution_options.get(ALL_PLATFORMS):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # One criterion on the marker class covers every platform-owned model. As a lambda it is
    # built once and cached, ``registration_id`` becoming a bound parameter: a criterion per
    # model, rebuilt at every statement, tripled the cost of a simple query.
    state.statement = state.statement.options(
        with_loader_criteria(
            PlatformOwned,
            lambda cls: cls.registration_id == registration_id,
            include_aliases=True,
        )
    )
