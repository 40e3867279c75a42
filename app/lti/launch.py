"""OIDC login initiation and the id_token launch, through pylti1p3.

Login: LTI Core §5.1.1 / 1EdTech Security Framework §5.1.1 (third-party initiated login).
Launch: Security Framework §5.1.3 (authentication response validation), LTI Core §5.3.

The rest of the app never sees pylti1p3: a successful launch becomes a ``Launch`` value object.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.roles import StaffRole, StudentRole, TeacherRole, TeachingAssistantRole
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.lti.errors import DeploymentNotApproved, LaunchError, explain
from app.lti.models import Deployment, Registration
from app.lti.tool_config import DatabaseToolConf, find_registration

log = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

_ROLE_LABELS = (
    ("membership#Instructor", "Instructor"),
    ("membership/Instructor#TeachingAssistant", "Teaching assistant"),
    ("membership#ContentDeveloper", "Content developer"),
    ("membership#Mentor", "Mentor"),
    ("membership#Learner", "Learner"),
    ("institution/person#Administrator", "Administrator"),
    ("system/person#Administrator", "Administrator"),
)


@dataclass(frozen=True)
class LaunchUser:
    """Who launched, as the platform identifies them."""

    sub: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.given_name, self.family_name) if p)
        return self.name or full or self.email or f"User {self.sub}"


@dataclass(frozen=True)
class LaunchContext:
    id: str
    title: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class LaunchResourceLink:
    id: str
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class AgsEndpoint:
    scopes: tuple[str, ...]
    lineitems_url: str | None
    lineitem_url: str | None


@dataclass(frozen=True)
class Launch:
    """A validated launch: who, from which platform and course, with which services."""

    launch_id: str
    message_type: str
    registration_id: int
    issuer: str
    client_id: str
    deployment_id: str
    user: LaunchUser | None
    roles: tuple[str, ...]
    context: LaunchContext | None
    resource_link: LaunchResourceLink | None
    target_link_uri: str | None
    custom: Mapping[str, Any] = field(default_factory=dict)
    ags: AgsEndpoint | None = None
    nrps_url: str | None = None
    deep_linking_settings: Mapping[str, Any] | None = None
    platform_name: str | None = None
    is_instructor: bool = False
    is_teaching_assistant: bool = False
    is_learner: bool = False
    is_staff: bool = False

    present = True

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @property
    def role_labels(self) -> list[str]:
        """Readable names of the roles, most specific first, without repeats."""
        labels: list[str] = []
        for role in self.roles:
            for suffix, label in _ROLE_LABELS:
                if role.endswith(suffix) and label not in labels:
                    labels.append(label)
        return labels or ["No course role"]


class NoLaunch:
    """Stands where a launch is expected but none happened, so callers need no ``None`` test."""

    present = False
    user = None
    roles: tuple[str, ...] = ()
    context = None
    resource_link = None
    is_instructor = is_teaching_assistant = is_learner = is_staff = False
    is_anonymous = True


class _MessageLaunch(FlaskMessageLaunch):
    """pylti1p3's launch with the deployment step recording unknown deployments as pending."""

    def __init__(self, *args: Any, db_session: Session, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._db_session = db_session

    def validate_deployment(self) -> _MessageLaunch:
        try:
            super().validate_deployment()
        except LtiException:
            self._record_unknown_deployment()
            raise
        return self

    def _record_unknown_deployment(self) -> None:
        # Runs after the signature check, so only the real platform can create these rows.
        registration = find_registration(self._db_session, self.get_iss(), self.get_client_id())
        assert registration is not None  # validate_registration passed
        deployment_id = self._get_deployment_id()
        row = self._db_session.scalars(
            select(Deployment).where(
                Deployment.registration_id == registration.id,
                Deployment.deployment_id == deployment_id,
            )
        ).first()
        if row is None:
            row = Deployment(
                registration_id=registration.id,
                deployment_id=deployment_id,
                status=Deployment.PENDING,
            )
            self._db_session.add(row)
            self._db_session.commit()
            log.info(
                "deployment recorded as pending",
                extra={"registration": registration.uuid, "deployment_id": deployment_id},
            )
        raise _deployment_refusal(registration, row)


def _deployment_refusal(registration: Registration, row: Deployment) -> DeploymentNotApproved:
    if row.status == Deployment.REFUSED:
        return DeploymentNotApproved(
            f"{registration.name}'s deployment {row.deployment_id} has been refused by the "
            "Microcred administrator.",
            hint="Ask your tool administrator if this should change.",
            title="This course's connection to Microcred is not allowed",
        )
    return DeploymentNotApproved(
        f"{registration.name}'s deployment {row.deployment_id} is not approved yet.",
        hint="Ask your Microcred tool administrator to approve it in the operator console, "
        "then launch again.",
    )


def login(
    session: Session, tool_conf: DatabaseToolConf, storage: Any, launch_url: str, base_url: str
) -> Response:
    """Answer a third-party initiated login with the redirect to the platform's auth endpoint."""
    request = FlaskRequest()
    issuer = request.get_param("iss")
    if not issuer:
        raise LaunchError(
            "The login request does not say which LMS it comes from (no 'iss').",
            hint="Launch the tool from your course page rather than opening this address.",
            code="missing_issuer",
        )
    if not request.get_param("login_hint"):
        raise LaunchError(
            "The login request has no 'login_hint'.",
            hint="Launch the tool from your course page.",
            code="missing_login_hint",
        )
    client_id = request.get_param("client_id")
    if find_registration(session, issuer, client_id) is None:
        raise LaunchError(
            f"No LMS with issuer {issuer!r}"
            + (f" and client id {client_id!r}" if client_id else "")
            + " is registered with Microcred.",
            hint="Ask your tool administrator to register this LMS (or to check its client id).",
            code="unknown_registration",
        )
    target = request.get_param("target_link_uri")
    if target and not (target == base_url or target.startswith(base_url + "/")):
        raise LaunchError(
            f"The target link {target!r} is not an address of this tool.",
            hint="An LMS administrator should check the tool's target link URI.",
            code="foreign_target_link_uri",
        )
    try:
        oidc = FlaskOIDCLogin(request, tool_conf, launch_data_storage=storage)
        response: Response = oidc.redirect(launch_url)
        return response
    except OIDCException as exc:
        raise explain(exc) from exc


def validate_launch(
    session: Session,
    tool_conf: DatabaseToolConf,
    storage: Any,
    requests_session: Any,
    jwks_cache_seconds: int,
) -> Launch:
    """Validate the id_token POSTed by the platform and return the launch it describes."""
    message_launch = _MessageLaunch(
        FlaskRequest(),
        tool_conf,
        launch_data_storage=storage,
        requests_session=requests_session,
        db_session=session,
    )
    message_launch.set_public_key_caching(storage, cache_lifetime=jwks_cache_seconds)
    try:
        data = message_launch.get_launch_data()
    except LaunchError:
        raise
    except (LtiException, OIDCException) as exc:
        raise explain(exc) from exc
    registration = find_registration(session, data["iss"], message_launch.get_client_id())
    assert registration is not None
    return _to_launch(message_launch, data, registration)


def _to_launch(
    message_launch: _MessageLaunch, data: Mapping[str, Any], registration: Registration
) -> Launch:
    sub = data.get("sub")
    user = (
        LaunchUser(
            sub=sub,
            name=data.get("name"),
            given_name=data.get("given_name"),
            family_name=data.get("family_name"),
            email=data.get("email"),
        )
        if sub
        else None
    )
    context = data.get(CLAIM + "context")
    link = data.get(CLAIM + "resource_link")
    ags = data.get(AGS_CLAIM)
    nrps = data.get(NRPS_CLAIM)
    platform = data.get(CLAIM + "tool_platform") or {}
    return Launch(
        launch_id=message_launch.get_launch_id(),
        message_type=data[CLAIM + "message_type"],
        registration_id=registration.id,
        issuer=data["iss"],
        client_id=registration.client_id,
        deployment_id=data[CLAIM + "deployment_id"],
        user=user,
        roles=tuple(data.get(CLAIM + "roles") or ()),
        context=LaunchContext(
            id=context["id"], title=context.get("title"), label=context.get("label")
        )
        if context
        else None,
        resource_link=LaunchResourceLink(
            id=link["id"], title=link.get("title"), description=link.get("description")
        )
        if link
        else None,
        target_link_uri=data.get(CLAIM + "target_link_uri"),
        custom=dict(data.get(CLAIM + "custom") or {}),
        ags=AgsEndpoint(
            scopes=tuple(ags.get("scope") or ()),
            lineitems_url=ags.get("lineitems"),
            lineitem_url=ags.get("lineitem"),
        )
        if ags
        else None,
        nrps_url=(nrps or {}).get("context_memberships_url"),
        deep_linking_settings=data.get(DL_CLAIM),
        platform_name=platform.get("name"),
        is_instructor=TeacherRole(data).check(),
        is_teaching_assistant=TeachingAssistantRole(data).check(),
        is_learner=StudentRole(data).check(),
        is_staff=StaffRole(data).check(),
    )
