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

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

ALL_PLATFORMS = "all_platforms"
_SCOPE = "platform_scope"


class PlatformOwned:
    """Marker for models whose rows belong to one platform (``registration_id``)."""

    registration_id: Any


def scope_to_platform(session: Session, registration_id: int) -> None:
    """From now on, this session's ORM queries see only rows of ``registration_id``."""
    session.info[_SCOPE] = registration_id


def platform_scope(session: Session) -> int | None:
    """The registration this session is scoped to, if any."""
    value = session.info.get(_SCOPE)
    return int(value) if value is not None else None


@event.listens_for(Session, "do_orm_execute")
def _add_platform_criteria(state: ORMExecuteState) -> None:
    registration_id = state.session.info.get(_SCOPE)
    if registration_id is None or state.execution_options.get(ALL_PLATFORMS):
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(
        *(
            with_loader_criteria(
                model, model.registration_id == registration_id, include_aliases=True
            )
            for model in _owned_models()
        )
    )


def _owned_models() -> list[Any]:
    """Every mapped class that is ``PlatformOwned`` (the marker itself is not mapped)."""
    found: list[Any] = []
    pending = list(PlatformOwned.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if hasattr(model, "__mapper__"):
            found.append(model)
    return found
