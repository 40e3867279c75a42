"""The ``Launch`` value object: what a validated launch tells the rest of the app.

Nothing outside ``app/lti`` sees pylti1p3 or raw claims: a validated id_token (LTI Core §5.3,
5.4) becomes a ``Launch`` with typed parts, and a missing one a ``NoLaunch``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pylti1p3.roles import (
    AbstractRole,
    DesignerRole,
    StaffRole,
    StudentRole,
    TeacherRole,
    TeachingAssistantRole,
)

from app.lti.models import Registration

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"

_ROLE_LABELS = (
    ("membership#Instructor", "Instructor"),
    ("membership/Instructor#TeachingAssistant", "Teaching assistant"),
    ("membership#ContentDeveloper", "Content developer"),
    ("membership#Mentor", "Mentor"),
    ("membership#Learner", "Learner"),
    ("institution/person#Administrator", "Administrator"),
    ("system/person#Administrator", "Administrator"),
)


def role_labels(roles: Iterable[str]) -> list[str]:
    """Readable names of LIS roles (full URIs, or the simple names NRPS may use), most specific
    first, without repeats."""
    labels: list[str] = []
    for role in roles:
        for suffix, label in _ROLE_LABELS:
            simple = suffix.rsplit("#", 1)[-1]
            if (role.endswith(suffix) or role == simple) and label not in labels:
                labels.append(label)
    return labels or ["No course role"]


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


class AdministratorRole(AbstractRole):
    """An institution's or the system's administrator. Canvas sends an account administrator
    who is not enrolled only ``institution/person#Administrator``
    (``LIS_V2_LTI_ADVANTAGE_ROLE_MAP``), which pylti1p3's ``StaffRole`` does not count. As in
    pylti1p3, a launch with any context role is judged by its context roles alone (Canvas sends
    institution roles to an administrator who is a learner in the course)."""

    _system_roles = ("Administrator", "SysAdmin")
    _institution_roles = ("Administrator", "SysAdmin")


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
    platform_family: str = "generic"
    """The registration's LMS family (``moodle``, ``canvas``, ``generic``): whose quirks apply."""
    return_url: str | None = None
    """``launch_presentation.return_url``: where the LMS wants the person sent back."""
    locale: str | None = None
    """``launch_presentation.locale``: the person's language in the LMS ("en", Moodle's "en_us",
    Canvas's "en-GB"), for showing dates and times; ``None`` when absent or not a language tag."""
    is_instructor: bool = False
    is_teaching_assistant: bool = False
    is_learner: bool = False
    is_staff: bool = False
    is_content_developer: bool = False
    """``membership#ContentDeveloper``: Canvas's course designer."""
    for_user_sub: str | None = None
    """``for_user.user_id`` of an LtiSubmissionReviewRequest (LTI AGS Submission Review §3.3):
    the ``sub`` of the person whose submission the LMS asks to show. The LMS's word only —
    Moodle's launch page sends it for anyone who may open the activity — so it counts for a
    course's instructors and TAs, and names a person of this platform."""

    present = True

    @property
    def is_submission_review(self) -> bool:
        """An LtiSubmissionReviewRequest: open ``for_user``'s submission, not the activity."""
        return self.message_type == SUBMISSION_REVIEW

    @property
    def is_anonymous(self) -> bool:
        """No ``sub``: the person may look but not submit (LTI-CHECKLIST A17)."""
        return self.user is None

    @property
    def can_submit(self) -> bool:
        return self.user is not None

    @property
    def may_add_content(self) -> bool:
        """Whether this person may put credentials into the course (Deep Linking, binding a
        link): an instructor, a teaching assistant, a content developer (Canvas's designer), or
        staff or an administrator of the institution."""
        return (
            self.is_instructor
            or self.is_teaching_assistant
            or self.is_content_developer
            or self.is_staff
        )

    @property
    def role_labels(self) -> list[str]:
        """Readable names of the roles, most specific first, without repeats."""
        return role_labels(self.roles)


class NoLaunch:
    """Stands where a launch is expected but none happened, so callers need no ``None`` test."""

    present = False
    user = None
    roles: tuple[str, ...] = ()
    context = None
    resource_link = None
    is_instructor = is_teaching_assistant = is_learner = is_staff = is_content_developer = False
    is_anonymous = True
    can_submit = False
    for_user_sub = None
    is_submission_review = False
    locale = None


_READ = (
    "iss",
    "sub",
    "name",
    "given_name",
    "family_name",
    "email",
    CLAIM + "message_type",
    CLAIM + "deployment_id",
    CLAIM + "roles",
    CLAIM + "target_link_uri",
    CLAIM + "custom",
)
_READ_PARTS = {
    CLAIM + "context": ("id", "title", "label"),
    CLAIM + "resource_link": ("id", "title", "description"),
    CLAIM + "launch_presentation": ("return_url", "locale"),
    CLAIM + "tool_platform": ("name",),
    CLAIM + "for_user": ("user_id",),
    AGS_CLAIM: ("scope", "lineitems", "lineitem"),
    NRPS_CLAIM: ("context_memberships_url",),
    # What a Deep Linking answer reads (app/lti/deep_linking.py, request_of).
    DL_CLAIM: (
        "deep_link_return_url",
        "accept_types",
        "accept_multiple",
        "auto_create",
        "accept_presentation_document_targets",
        "data",
        "title",
        "text",
    ),
}


LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}")


def language_tag(value: Any) -> str | None:
    """Return a launch's ``locale`` when it looks like a language tag (BCP 47, or Moodle's
    ``en_us`` form), else ``None``: it ends up in a page's attribute and in a script's
    ``Intl`` call, so anything else is dropped rather than passed on."""
    if isinstance(value, str) and LANGUAGE_TAG.fullmatch(value):
        return value
    return None


def _part(data: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The members of object claim ``name`` that the tool reads (``None`` if it is absent)."""
    claim = data.get(name)
    if not isinstance(claim, Mapping):
        return None
    return {member: claim[member] for member in _READ_PARTS[name] if member in claim}


def kept_claims(data: Mapping[str, Any]) -> dict[str, Any]:
    """What ``to_launch`` reads of validated claims ``data``, and nothing else: what a launch
    keeps for its pages (``session.keep``), which build the same ``Launch`` from it."""
    kept = {name: data[name] for name in _READ if name in data}
    for name in _READ_PARTS:
        part = _part(data, name)
        if part is not None:
            kept[name] = part
    return kept


def to_launch(launch_id: str, data: Mapping[str, Any], registration: Registration) -> Launch:
    """Build the ``Launch`` of validated claims ``data``."""
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
    for_user = data.get(CLAIM + "for_user")
    for_user_id = for_user.get("user_id") if isinstance(for_user, Mapping) else None
    return Launch(
        launch_id=launch_id,
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
        deep_linking_settings=_part(data, DL_CLAIM),
        platform_name=platform.get("name"),
        platform_family=registration.platform_family or "generic",
        return_url=(data.get(CLAIM + "launch_presentation") or {}).get("return_url"),
        locale=language_tag((data.get(CLAIM + "launch_presentation") or {}).get("locale")),
        is_instructor=TeacherRole(data).check(),
        is_teaching_assistant=TeachingAssistantRole(data).check(),
        is_learner=StudentRole(data).check(),
        is_staff=StaffRole(data).check() or AdministratorRole(data).check(),
        is_content_developer=DesignerRole(data).check(),
        # Moodle's user ids are numbers, and a platform may send one as such.
        for_user_sub=str(for_user_id)
        if isinstance(for_user_id, str | int) and for_user_id
        else None,
    )
