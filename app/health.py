"""Liveness and readiness, for a load balancer and a process supervisor (docs/operating.md).

*Liveness* says the process answers requests and touches nothing else: a supervisor restarts
an instance that fails it, and a restart of the database must not restart every instance.
*Readiness* checks every part the instance needs — the database, the state store, the evidence
store — and names each it cannot reach: a load balancer sends an instance that is not ready no
traffic. Each part's ``init_app`` registers its check here; a check returns when the part
answers and raises when it does not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

EXTENSION = "health_checks"


@dataclass(frozen=True)
class Check:
    """How to tell whether one part answers, and which kind of part it is."""

    probe: Callable[[], object]
    kind: str


def register(app: Flask, name: str, probe: Callable[[], object], *, kind: str) -> None:
    """Make readiness check ``probe`` (which raises when the part cannot be reached)."""
    app.extensions.setdefault(EXTENSION, {})[name] = Check(probe, kind)


def readiness(app: Flask) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every registered check; tell whether all passed, and each one's result.

    A failure is reported by the exception's class only: its text may hold a host, a user name
    or a bucket, which a public endpoint must not show (it is logged instead)."""
    checks: dict[str, Check] = app.extensions.get(EXTENSION, {})
    results: dict[str, dict[str, Any]] = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check.probe()
        except Exception as exc:
            log.warning("not ready", extra={"dependency": name, "reason": repr(exc)})
            results[name] = {
                "status": "unreachable",
                "kind": check.kind,
                "error": type(exc).__name__,
            }
        else:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            results[name] = {"status": "ok", "kind": check.kind, "ms": elapsed}
    return all(r["status"] == "ok" for r in results.values()), results
