"""pylti1p3's tool configuration, read from the database (no JSON files).

A stateless adapter: each lookup reads ``lti_registration`` / ``lti_deployment`` and hands
pylti1p3 its own ``Registration`` and ``Deployment`` objects, with the tool's current signing
key attached for service calls. Modelled on django-lti's ``DjangoToolConfig``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet
from pylti1p3.deployment import Deployment as PyltiDeployment
from pylti1p3.registration import Registration as PyltiRegistration
from pylti1p3.tool_config import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lti import keys
from app.lti.models import Deployment, Registration


def find_registration(session: Session, issuer: str, client_id: str | None) -> Registration | None:
    """Find a registration by (issuer, client_id); without a client_id, the issuer's only one."""
    if client_id:
        return session.scalars(
            select(Registration).where(
                Registration.issuer == issuer, Registration.client_id == client_id
            )
        ).first()
    candidates = session.scalars(
        select(Registration).where(Registration.issuer == issuer).limit(2)
    ).all()
    return candidates[0] if len(candidates) == 1 else None


class _Registration(PyltiRegistration):
    """pylti1p3's registration whose tool key is read only when something needs it.

    Logins and launches never sign; service calls and Deep Linking responses do. pylti1p3
    derives the ``kid`` of what it signs from the public key (RFC 7638 thumbprint), the same
    value our JWKS publishes."""

    def __init__(self, load_key: Callable[[], keys.SigningKey]) -> None:
        super().__init__()
        self._load_key = load_key
        self._key: keys.SigningKey | None = None

    def _signing_key(self) -> keys.SigningKey:
        if self._key is None:
            self._key = self._load_key()
        return self._key

    def get_tool_private_key(self) -> str:
        return self._signing_key().private_pem

    def get_tool_public_key(self) -> str:
        return self._signing_key().public_pem


class DatabaseToolConf(ToolConfAbstract[Any]):
    """Registrations and deployments from the database, for pylti1p3."""

    def __init__(self, session: Session, cipher: Fernet) -> None:
        super().__init__()
        self._session = session
        self._cipher = cipher
        # pylti1p3 looks the registration up several times per request; once is enough.
        self._rows: dict[tuple[str, str | None], Registration | None] = {}
        self._deployments: dict[tuple[int, str], Deployment | None] = {}

    def remember(
        self,
        iss: str,
        client_id: str,
        deployment_id: str,
        registration: Registration | None,
        deployment: Deployment | None,
    ) -> None:
        """Take the registration and deployment a launch read together (``read_launch``) as
        this request's answers to the lookups below."""
        self._rows[(iss, client_id)] = registration
        if registration is not None:
            self._deployments[(registration.id, deployment_id)] = deployment

    def registration_row(self, iss: str, client_id: str | None) -> Registration | None:
        """Return the registration row for (iss, client_id), read once per request."""
        if (iss, client_id) not in self._rows:
            self._rows[(iss, client_id)] = find_registration(self._session, iss, client_id)
        return self._rows[(iss, client_id)]

    def check_iss_has_one_client(self, iss: str) -> bool:
        # One issuer may register many client ids (hosted Canvas shares one issuer).
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> PyltiRegistration:
        registration = self.find_registration_by_params(iss, None)
        if registration is None:  # pylti1p3's contract has no Optional here; callers check
            raise LookupError(f"no registration for {iss}")
        return registration

    # pylti1p3 types this as never None, but its callers test for None; so do we.
    def find_registration_by_params(  # type: ignore[override]
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> PyltiRegistration | None:
        row = self.registration_row(iss, client_id)
        if row is None or not row.is_active:
            return None
        return self.to_pylti_registration(row)

    def to_pylti_registration(self, row: Registration) -> PyltiRegistration:
        registration = (
            _Registration(lambda: keys.signing_key(self._session, self._cipher))
            .set_issuer(row.issuer)
            .set_client_id(row.client_id)
            .set_auth_login_url(row.auth_login_url)
            .set_auth_token_url(row.auth_token_url)
            .set_key_set_url(row.key_set_url)
        )
        if row.auth_audience:
            registration.set_auth_audience(row.auth_audience)
        return registration

    def find_deployment(self, iss: str, deployment_id: str) -> PyltiDeployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> PyltiDeployment | None:
        registration = self.registration_row(iss, client_id)
        if registration is None:
            return None
        key = (registration.id, deployment_id)
        if key not in self._deployments:
            self._deployments[key] = self._session.scalars(
                select(Deployment).where(
                    Deployment.registration_id == registration.id,
                    Deployment.deployment_id == deployment_id,
                )
            ).first()
        row = self._deployments[key]
        if row is None or not row.is_active:
            return None
        return PyltiDeployment().set_deployment_id(row.deployment_id)
