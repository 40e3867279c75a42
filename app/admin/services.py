"""The operator console's services: operators and their sign-in, and the changes operators make
to platforms (LTI registrations) and their deployments.

Every change writes one audit event in the same transaction as the change (who, when, what).
Functions take a database session and plain values, and commit what they change; the CLI and
the console's views call the same functions.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.admin import passwords
from app.admin.models import Operator
from app.admin.schemas import PlatformValues
from app.audit.models import AuditEvent
from app.db import utcnow
from app.errors import AppError, Conflict, NotFound, Unauthorized
from app.lti import registrations
from app.lti.models import Deployment, Registration
from app.lti.registrations import RegistrationSummary
from app.lti.state import StateStore

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
"""The actor of an event nobody signed in caused (a lockout after failed sign-ins)."""


@dataclass(frozen=True)
class Actor:
    """Who makes a change: an operator (email and id), or ``cli``."""

    label: str
    operator_id: int | None = None

    @classmethod
    def of(cls, operator: Operator) -> Actor:
        return cls(label=operator.email, operator_id=operator.id)


CLI_ACTOR = Actor(audit.CLI)


def _record(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return audit.record(
        session,
        actor=actor.label,
        operator_id=actor.operator_id,
        action=action,
        target=target,
        details=details,
    )


# --- Operators ----------------------------------------------------------------------------------


class InvalidOperator(AppError):
    code = "invalid_operator"
    title = "These operator details cannot be used"


class OperatorExists(Conflict):
    code = "operator_exists"
    title = "This operator already exists"


EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_email(email: str) -> str:
    """Return the sign-in form of an email: trimmed, lower-cased."""
    return email.strip().lower()


def operator_target(email: str) -> str:
    return f"operator:{email}"


def find_operator(session: Session, email: str) -> Operator | None:
    """Return the operator with this email (any case), or ``None``."""
    return session.scalars(select(Operator).where(Operator.email == normalize_email(email))).first()


def list_operators(session: Session) -> list[Operator]:
    """Return every operator, by email."""
    return list(session.scalars(select(Operator).order_by(Operator.email)))


def create_operator(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    password: str,
    is_operator: bool = True,
) -> Operator:
    """Add a console account that signs in with this email and password: an operator, or
    (``is_operator=False``) an account that only authors for its organisations."""
    email = normalize_email(email)
    name = name.strip()
    if not EMAIL_PATTERN.fullmatch(email) or len(email) > 320:
        raise InvalidOperator(f"“{email}” is not an email address.")
    if not name or len(name) > 200:
        raise InvalidOperator("Give the operator's name (at most 200 characters).")
    try:
        passwords.check_rules(password)
    except passwords.WeakPassword as exc:
        raise InvalidOperator(str(exc)) from None
    if find_operator(session, email) is not None:
        raise OperatorExists(
            f"There is already an operator with the email {email}.",
            hint="Use `flask operator set-password` to give them a new password.",
        )
    operator = Operator(
        email=email,
        name=name,
        password_hash=passwords.hash_password(password),
        is_active=True,
        is_operator=is_operator,
    )
    session.add(operator)
    session.flush()
    _record(
        session,
        actor,
        "operator.created",
        operator_target(email),
        {"name": name, "operator": is_operator},
    )
    session.commit()
    return operator


def set_password(session: Session, actor: Actor, *, email: str, password: str) -> Operator:
    """Give an operator a new password; their open sessions end."""
    operator = find_operator(session, email)
    if operator is None:
        raise NotFound(f"There is no operator with the email {normalize_email(email)}.")
    try:
        passwords.check_rules(password)
    except passwords.WeakPassword as exc:
        raise InvalidOperator(str(exc)) from None
    operator.password_hash = passwords.hash_password(password)
    _record(session, actor, "operator.password_set", operator_target(operator.email))
    session.commit()
    return operator


def password_fingerprint(operator: Operator) -> str:
    """Return a digest of the operator's password hash: a session remembers it, and a new
    password (a new hash) no longer matches."""
    return hashlib.sha256(operator.password_hash.encode()).hexdigest()[:32]


def operator_for_session(session: Session, operator_id: int, fingerprint: str) -> Operator | None:
    """Return the signed-in operator, or ``None`` if they were deactivated or their password
    changed since the session began."""
    operator = session.get(Operator, operator_id)
    if operator is None or not operator.is_active:
        return None
    if password_fingerprint(operator) != fingerprint:
        return None
    return operator


# --- Sign-in ------------------------------------------------------------------------------------

FAILURE_LIMIT = 5
FAILURE_WINDOW_SECONDS = 15 * 60


class SignInFailed(Unauthorized):
    code = "sign_in_failed"
    title = "Sign-in failed"


class SignInLocked(AppError):
    status = 429
    code = "sign_in_locked"
    title = "Sign-in paused"


class SignInThrottle:
    """Pause sign-in for an email after ``FAILURE_LIMIT`` failures within
    ``FAILURE_WINDOW_SECONDS``, for ``FAILURE_WINDOW_SECONDS``.

    Kept in the state store, so every instance counts the same failures. Each failure takes one
    of ``FAILURE_LIMIT`` slots with an atomic add-if-absent, so concurrent tries cannot both
    take the last slot unnoticed. Applies to any email typed, known or not: a pause says
    nothing about whether an operator has that email."""

    def __init__(
        self,
        store: StateStore,
        *,
        limit: int = FAILURE_LIMIT,
        window_seconds: int = FAILURE_WINDOW_SECONDS,
    ) -> None:
        self._store = store
        self.limit = limit
        self.window_seconds = window_seconds

    @staticmethod
    def _digest(email: str) -> str:
        return hashlib.sha256(normalize_email(email).encode()).hexdigest()

    def is_locked(self, email: str) -> bool:
        return self._store.get(f"admin-sign-in-lock:{self._digest(email)}") is not None

    def fail(self, email: str) -> bool:
        """Count one failure; tell whether sign-in for this email is now paused."""
        digest = self._digest(email)
        for slot in range(self.limit):
            if self._store.add(f"admin-sign-in-fail:{digest}:{slot}", 1, self.window_seconds):
                if slot < self.limit - 1:
                    return False
                break
        self._store.put(f"admin-sign-in-lock:{digest}", 1, self.window_seconds)
        return True

    def clear(self, email: str) -> None:
        digest = self._digest(email)
        for slot in range(self.limit):
            self._store.take(f"admin-sign-in-fail:{digest}:{slot}")


def _locked(throttle: SignInThrottle) -> SignInLocked:
    minutes = throttle.window_seconds // 60
    return SignInLocked(
        f"There were {throttle.limit} failed sign-ins for this email, so sign-in for it is "
        f"paused for {minutes} minutes.",
        hint=f"Wait {minutes} minutes and try again. If you have forgotten your password, ask "
        "the person who runs the Microcred server to set a new one (`flask operator "
        "set-password`).",
    )


def authenticate(
    session: Session, throttle: SignInThrottle, *, email: str, password: str
) -> Operator:
    """Return the operator these credentials belong to, or raise ``SignInFailed`` /
    ``SignInLocked``. Records the sign-in (and a lockout) in the audit log."""
    email = normalize_email(email)
    if throttle.is_locked(email):
        raise _locked(throttle)
    operator = find_operator(session, email) if email else None
    if operator is None or not operator.is_active:
        passwords.verify_decoy(password)
        verified = passwords.Verification(ok=False)
    else:
        verified = passwords.verify(operator.password_hash, password)
    if not verified.ok or operator is None or not operator.is_active:
        locked = throttle.fail(email)
        # Without the email typed (personal data, and often a password typed in the wrong
        # field); a lockout of a known account is in the audit log.
        log.info("operator sign-in failed", extra={"locked": locked})
        if locked:
            if operator is not None:
                _record(
                    session,
                    Actor(ANONYMOUS),
                    "operator.locked_out",
                    operator_target(email),
                    {"failures": throttle.limit, "minutes": throttle.window_seconds // 60},
                )
                session.commit()
            raise _locked(throttle)
        raise SignInFailed(
            "The email or password is not right.",
            hint=f"Check both and try again. After {throttle.limit} failed tries, sign-in for "
            f"this email pauses for {throttle.window_seconds // 60} minutes.",
        )
    if verified.new_hash:
        operator.password_hash = verified.new_hash
    throttle.clear(email)
    operator.last_signed_in_at = utcnow()
    _record(session, Actor.of(operator), "operator.signed_in", operator_target(email))
    session.commit()
    return operator


def record_sign_out(session: Session, operator: Operator) -> None:
    """Note that an operator signed out."""
    _record(session, Actor.of(operator), "operator.signed_out", operator_target(operator.email))
    session.commit()


# --- Platforms and deployments ------------------------------------------------------------------


def registration_target(registration: Registration) -> str:
    return f"registration:{registration.uuid}"


def list_platforms(session: Session) -> list[RegistrationSummary]:
    """Return every platform, by name, with its deployment counts."""
    return registrations.summarize_registrations(session)


def get_platform(session: Session, registration_uuid: str) -> Registration:
    """Return the platform with this id, or raise ``NotFound``."""
    registration = registrations.find_by_uuid(session, registration_uuid)
    if registration is None:
        raise NotFound(
            "There is no platform at this address.",
            hint="Go back to the list of platforms and open it from there.",
        )
    return registration


def platform_deployments(session: Session, registration: Registration) -> list[Deployment]:
    return registrations.deployments_of(session, registration)


def _values_for_audit(values: PlatformValues) -> dict[str, Any]:
    return {
        "name": values.name,
        "issuer": values.issuer,
        "client_id": values.client_id,
        "auth_login_url": values.auth_login_url,
        "auth_token_url": values.auth_token_url,
        "auth_audience": values.auth_audience,
        "key_set_url": values.key_set_url,
        "platform_family": values.platform_family,
        "course_page_origins": values.course_page_origins,
    }


def add_platform(
    session: Session,
    actor: Actor,
    values: PlatformValues,
    *,
    deployment_ids: list[str] | tuple[str, ...] = (),
    source: str = "manual",
) -> Registration:
    """Register a platform from its values (refusing a duplicate issuer and client id) and
    approve the deployment ids given."""
    registration = registrations.create_registration(
        session,
        name=values.name,
        issuer=values.issuer,
        client_id=values.client_id,
        auth_login_url=values.auth_login_url,
        auth_token_url=values.auth_token_url,
        key_set_url=values.key_set_url,
        auth_audience=values.auth_audience,
        platform_family=values.platform_family,
        course_page_origins=values.course_page_origins,
        source=source,
        active_deployment_ids=deployment_ids,
    )
    details = _values_for_audit(values) | {
        "source": source,
        "approved_deployments": list(deployment_ids),
    }
    _record(session, actor, "registration.created", registration_target(registration), details)
    session.commit()
    return registration


def update_platform(
    session: Session, actor: Actor, registration: Registration, values: PlatformValues
) -> dict[str, tuple[Any, Any]]:
    """Change a platform's editable values; record what changed (nothing when nothing did)."""
    changes = registrations.update_registration(
        session,
        registration,
        {
            name: value
            for name, value in _values_for_audit(values).items()
            if name in registrations.EDITABLE_FIELDS
        },
    )
    if changes:
        _record(
            session,
            actor,
            "registration.updated",
            registration_target(registration),
            {"platform": registration.name}
            | {name: {"from": before, "to": after} for name, (before, after) in changes.items()},
        )
    session.commit()
    return changes


def set_platform_active(
    session: Session, actor: Actor, registration: Registration, active: bool
) -> bool:
    """Switch a platform on or off; tell whether anything changed."""
    if registration.is_active == active:
        return False
    registration.is_active = active
    action = "registration.activated" if active else "registration.deactivated"
    _record(session, actor, action, registration_target(registration), {"name": registration.name})
    session.commit()
    return True


def set_auto_approve(
    session: Session, actor: Actor, registration: Registration, enabled: bool
) -> bool:
    """Turn approving new deployments on first sight on or off; tell whether it changed."""
    if registration.auto_approve_deployments == enabled:
        return False
    registration.auto_approve_deployments = enabled
    action = f"registration.auto_approve_{'enabled' if enabled else 'disabled'}"
    _record(session, actor, action, registration_target(registration), {"name": registration.name})
    session.commit()
    return True


DECISIONS = {"approve": Deployment.ACTIVE, "refuse": Deployment.REFUSED}
DECISION_ACTIONS = {
    Deployment.ACTIVE: "deployment.approved",
    Deployment.REFUSED: "deployment.refused",
}


def decide_deployment(
    session: Session,
    actor: Actor,
    registration: Registration,
    deployment_id: str,
    status: str,
    *,
    create_if_unseen: bool = False,
) -> tuple[Deployment, bool]:
    """Approve (``active``) or refuse (``refused``) a deployment of a platform; return it and
    whether its status changed.

    The console decides only on deployments the platform has launched from (or that were
    entered); the CLI may approve one before its first launch (``create_if_unseen``)."""
    if status not in DECISION_ACTIONS:
        raise AppError(f"A deployment can be approved or refused, not set to {status!r}.")
    existing = registrations.find_deployment(session, registration, deployment_id)
    if existing is None and not create_if_unseen:
        raise NotFound(
            f"{registration.name} has no deployment with the id “{deployment_id}”.",
            hint="Reload the platform's page: the list of deployments may have changed.",
        )
    before = existing.status if existing is not None else None
    if before == status:
        assert existing is not None
        return existing, False
    deployment = registrations.set_deployment_status(session, registration, deployment_id, status)
    _record(
        session,
        actor,
        DECISION_ACTIONS[status],
        registration_target(registration),
        {"deployment_id": deployment_id, "previous_status": before, "platform": registration.name},
    )
    session.commit()
    return deployment, True


# --- Overview and the audit log -----------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    platforms: int
    active_platforms: int
    pending_deployments: int
    audit_events: int
    recent_events: list[AuditEvent]


def overview(session: Session, *, recent: int = 10) -> Overview:
    """Return the console's front-page figures."""
    total, active = registrations.count_registrations(session)
    return Overview(
        platforms=total,
        active_platforms=active,
        pending_deployments=registrations.count_pending_deployments(session),
        audit_events=audit.count(session),
        recent_events=audit.recent(session, limit=recent),
    )


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    pages: int
    total: int


AUDIT_PAGE_SIZE = 50


def audit_page(session: Session, page: int, *, per_page: int = AUDIT_PAGE_SIZE) -> AuditPage:
    """Return one page of the audit log, newest first (pages count from 1)."""
    total = audit.count(session)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    events = audit.recent(session, limit=per_page, offset=(page - 1) * per_page)
    return AuditPage(events=events, page=page, pages=pages, total=total)


def platform_events(
    session: Session, registration: Registration, *, limit: int = 20
) -> list[AuditEvent]:
    """Return the latest audit events about one platform."""
    return audit.recent(session, limit=limit, target=registration_target(registration))
