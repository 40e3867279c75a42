"""The worker's jobs: the loops that do the durable work features leave behind (STYLE "Durable
side effects"), run by ``flask worker`` (``app.outbox.cli``) or, in the embedded default, as
threads of ``flask serve``.

Shared infrastructure: this package knows no feature. A feature whose work runs in the worker
gives it a ``Job`` in its ``init_app`` (``add_job``): grading the score sender
(``app.grading.worker``), badges the outbox processor that issues earned badges
(``app.badges.processing``). Jobs run in the order they were added, which is the order
``create_app`` wires the features in; nothing is added by importing a module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from flask import Flask

EXTENSION = "outbox_jobs"


class Loop(Protocol):
    """A job's loop: ``run`` until ``stop`` (or, ``until_idle``, until nothing is due)."""

    name: str
    thread: threading.Thread | None

    def run(self, *, until_idle: bool = False) -> Any: ...

    def run_in_thread(self) -> threading.Thread: ...

    def stop(self) -> None: ...


L = TypeVar("L", bound=Loop)


@dataclass(frozen=True)
class Run:
    """Who asks for a job's loop: ``flask worker`` (its process's name and ``--threads``), or
    ``flask serve`` for its embedded worker."""

    name: str
    threads: int | None = None
    embedded: bool = False


def _say_nothing(_loop: Any, _until_idle: bool = False) -> str | None:
    return None


@dataclass(frozen=True)
class Job(Generic[L]):
    """One kind of work a feature leaves to the worker."""

    build: Callable[[Flask, Run], L]
    """Make the job's loop with the app's database and settings."""
    serving: str
    """What ``flask serve`` says when it runs the job in its own process."""
    starting: Callable[[L], str | None] = _say_nothing
    """What ``flask worker`` says as the job starts, if anything."""
    finished: Callable[[L, bool], str | None] = _say_nothing
    """What ``flask worker`` says once the job's loop has stopped (given whether it ran until
    idle), if anything."""


def add_job(app: Flask, job: Job[Any]) -> None:
    """Have ``app``'s worker run ``job`` too (a feature's ``init_app`` calls it)."""
    app.extensions.setdefault(EXTENSION, []).append(job)


def jobs_of(app: Flask) -> list[Job[Any]]:
    """Return the jobs of ``app``'s worker, in the order they were added."""
    found: list[Job[Any]] = app.extensions.get(EXTENSION, [])
    return list(found)


def start_embedded(app: Flask) -> list[tuple[Job[Any], Loop]]:
    """Start every job's loop in a thread of this process (``flask serve``), when the settings
    ask for an embedded worker; return them, to be stopped."""
    if not app.config["MICROCRED_SETTINGS"].embedded_worker:
        return []
    started: list[tuple[Job[Any], Loop]] = []
    for job in jobs_of(app):
        loop = job.build(app, Run(name="embedded", embedded=True))
        loop.run_in_thread()
        started.append((job, loop))
    return started
