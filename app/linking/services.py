"""Putting credentials into courses: the Deep Linking items for chosen credentials, and which
credential a course link stands for when it is launched.

A link made by Deep Linking carries its credential in custom parameters — the credential's slug
and the version policy, ``latest`` (follow the latest published version) or a version number
(pinned) — and the LMS sends them back on every launch, also from a copied course whose links
have new resource link ids. A link without them (added by hand in the LMS) is bound by an
instructor at its first launch, and the binding is stored for that resource link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import String, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog import services as catalog
from app.catalog.models import Credential, CredentialVersion, Image
from app.db import UTCDateTime, dialect_insert, table_of, utcnow
from app.errors import AppError, Forbidden, NotFound
from app.inputs import BadInput, as_id, finite_number
from app.linking.models import LinkedCredential, LinkVisit
from app.lti.launch import Launch
from app.lti.models import Deployment, LtiContext, LtiResourceLink, LtiUser
from app.lti.platforms import LINK_HISTORY_PARAMETER

CUSTOM_CREDENTIAL = "microcred_credential"
CUSTOM_VERSION = "microcred_version"
CUSTOM_LINK_HISTORY = LINK_HISTORY_PARAMETER
"""The custom parameter the tool registers as ``$ResourceLink.id.history``: the ids of the links
this one was copied from, most recent first (LTI 1.3 implementation guide, "Do not use
resource_link id"). Brightspace and Blackboard substitute it; Moodle and Canvas do not (they
substitute ``$Context.id.history`` only: Moodle's ``resolve_calculated``, Canvas's
``Lti::VariableExpander``), nor does this development LMS, so there a copied link bound by an
instructor is bound again by its instructor."""
LINK_HISTORY_KEYS = (CUSTOM_LINK_HISTORY, "ResourceLink.id.history")
"""Our name for it, and the variable's own name (some platforms send it under that key)."""
LATEST = "latest"
LINE_ITEM_TAG = "microcred"
DEFAULT_SCORE_MAXIMUM = 100
MAX_SCORE_MAXIMUM = 10000
MAX_ITEMS = 50


class NotForLearners(Forbidden):
    code = "not_for_learners"
    title = "Only the course's teachers can do this"


class InvalidChoice(AppError):
    code = "invalid_choice"
    title = "This choice cannot be added"


@dataclass(frozen=True)
class Chosen:
    """A credential the instructor picked, as it will go into the course."""

    slug: str
    title: str
    short_description: str
    version_number: int
    pinned: bool
    image: Image | None


def require_content_rights(launch: Launch, doing: str = "add micro-credentials to it") -> None:
    """Refuse anyone who may not put credentials into the course (learners), saying what they
    tried to do."""
    if not launch.may_add_content:
        raise NotForLearners(
            f"Only the course's teachers, designers and administrators can {doing}.",
            hint="If you teach this course, ask your LMS administrator to check your role in it.",
        )


def chosen_credentials(session: Session, slugs: Sequence[str], *, pin: bool) -> list[Chosen]:
    """Return the picked credentials (current published versions), in the order given."""
    wanted = list(dict.fromkeys(s for s in slugs if s))
    if not wanted:
        raise InvalidChoice(
            "Choose at least one micro-credential, or press “Cancel” to add nothing."
        )
    if len(wanted) > MAX_ITEMS:
        raise InvalidChoice(f"Choose at most {MAX_ITEMS} micro-credentials at once.")
    rows = session.execute(
        select(Credential.slug, CredentialVersion)
        .join(CredentialVersion, CredentialVersion.credential_id == Credential.id)
        .where(
            Credential.slug.in_(wanted),
            CredentialVersion.status == CredentialVersion.PUBLISHED,
        )
        .order_by(CredentialVersion.number)
    ).all()
    current = {slug: version for slug, version in rows}  # the last (highest) wins
    missing = [s for s in wanted if s not in current]
    if missing:
        raise InvalidChoice(
            "These are no longer in the catalog: " + ", ".join(missing) + ".",
            hint="Go back to the list and choose again.",
        )
    return [
        Chosen(
            slug=slug,
            title=current[slug].title,
            short_description=current[slug].short_description,
            version_number=current[slug].number,
            pinned=pin,
            image=current[slug].image,
        )
        for slug in wanted
    ]


def parse_score_maximum(value: str | None) -> float:
    """Read the points a gradebook column is worth (default 100)."""
    if value is None or not value.strip():
        return DEFAULT_SCORE_MAXIMUM
    try:
        points = finite_number("points", value, minimum=0, maximum=MAX_SCORE_MAXIMUM)
    except BadInput:
        points = 0.0
    if points <= 0:
        raise InvalidChoice(
            f"Points must be a number above 0 and at most {MAX_SCORE_MAXIMUM}, e.g. 100."
        )
    return int(points) if points.is_integer() else points


def content_item(
    chosen: Chosen,
    *,
    launch_url: str,
    score_maximum: float,
    graded: bool,
    icon_url: str | None,
    extensions: dict[str, Any],
) -> dict[str, Any]:
    """Return the ``ltiResourceLink`` item for one credential (LTI-CHECKLIST F)."""
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": chosen.title,
        "text": chosen.short_description,
        "url": launch_url,
        "custom": {
            CUSTOM_CREDENTIAL: chosen.slug,
            CUSTOM_VERSION: str(chosen.version_number) if chosen.pinned else LATEST,
        },
    }
    if graded:
        item["lineItem"] = {
            "scoreMaximum": score_maximum,
            "label": chosen.title,
            "resourceId": chosen.slug,
            "tag": LINE_ITEM_TAG,
        }
    if icon_url:
        item["icon"] = {"url": icon_url, "width": 120, "height": 120}
    item.update(extensions)
    return item


# --- Resolving a launched link ---------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """The credential a launched link stands for, at the version to show."""

    credential: Credential
    version: CredentialVersion
    pinned: bool
    binding: LinkedCredential


class Unbound:
    """The link has no credential yet."""


UNBOUND = Unbound()


def _link_row(session: Session, launch: Launch) -> LtiResourceLink | None:
    if launch.resource_link is None or launch.context is None:
        return None
    return session.scalars(
        select(LtiResourceLink)
        .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .join(Deployment, Deployment.id == LtiContext.deployment_id)
        .where(
            Deployment.registration_id == launch.registration_id,
            Deployment.deployment_id == launch.deployment_id,
            LtiContext.context_id == launch.context.id,
            LtiResourceLink.resource_link_id == launch.resource_link.id,
        )
    ).first()


# The launch's stored link and its binding (if any), in one statement built once: the first
# page of every launch asks.
_LINK_AND_BINDING = (
    select(LtiResourceLink, LinkedCredential)
    .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
    .join(Deployment, Deployment.id == LtiContext.deployment_id)
    .outerjoin(LinkedCredential, LinkedCredential.resource_link_id == LtiResourceLink.id)
    .where(
        Deployment.registration_id == bindparam("registration_id"),
        Deployment.deployment_id == bindparam("deployment_id"),
        LtiContext.context_id == bindparam("context_id"),
        LtiResourceLink.resource_link_id == bindparam("resource_link_id"),
    )
)


def link_id_of(session: Session, launch: Launch) -> int | None:
    """The stored resource link a launch came from (``None`` outside a course link)."""
    link = _link_row(session, launch)
    return link.id if link is not None else None


def _user_row(session: Session, launch: Launch) -> LtiUser | None:
    if launch.user is None:
        return None
    return session.scalars(
        select(LtiUser).where(
            LtiUser.registration_id == launch.registration_id, LtiUser.sub == launch.user.sub
        )
    ).first()


def _custom_choice(launch: Launch) -> tuple[str, int | None] | None:
    slug = launch.custom.get(CUSTOM_CREDENTIAL)
    if not isinstance(slug, str) or not slug.strip():
        return None
    version = str(launch.custom.get(CUSTOM_VERSION, LATEST)).strip()
    number = as_id(version)  # the LMS's text: other scripts' digits, or too large, name none
    return slug.strip(), number


def resolve(session: Session, launch: Launch) -> Resolved | Unbound:
    """Find the credential of a launched link: its custom parameters first (storing or
    updating the binding of this resource link), then the stored binding, then the binding of
    the link it was copied from (the LMS's resource link history)."""
    if launch.resource_link is None or launch.context is None:
        return UNBOUND
    found = session.execute(
        _LINK_AND_BINDING,
        {
            "registration_id": launch.registration_id,
            "deployment_id": launch.deployment_id,
            "context_id": launch.context.id,
            "resource_link_id": launch.resource_link.id,
        },
    ).first()
    if found is None:
        return UNBOUND
    link, binding = found
    custom = _custom_choice(launch)
    if custom is not None:
        slug, number = custom
        credential = session.scalars(select(Credential).where(Credential.slug == slug)).first()
        if credential is None:
            raise NotFound(
                f"This activity asks for the micro-credential “{slug}”, which is not in "
                "Microcred's catalog.",
                hint="Ask your instructor to choose the credential for this activity again.",
            )
        if binding is None:
            binding = _bind(
                session, launch, link, credential, number, LinkedCredential.CUSTOM, None
            )
        elif (binding.credential_id, binding.version_number) != (credential.id, number):
            binding.credential_id, binding.version_number = credential.id, number
            binding.credential = credential
            binding.source = LinkedCredential.CUSTOM
    if binding is None:
        binding = _bind_from_history(session, launch, link)
    if binding is None:
        return UNBOUND
    return _at_version(session, binding)


def _link_history(launch: Launch) -> list[str]:
    for key in LINK_HISTORY_KEYS:
        value = launch.custom.get(key)
        # A platform that does not know the variable sends it unsubstituted ("$ResourceLink…").
        if isinstance(value, str) and value.strip() and not value.startswith("$"):
            return [part.strip() for part in value.split(",") if part.strip()]
    return []


def _bind_from_history(
    session: Session, launch: Launch, link: LtiResourceLink
) -> LinkedCredential | None:
    """Bind a copied link as the link it was copied from, when the LMS says which one that was
    (its resource link history) and that one has a credential: the nearest copy first."""
    history = _link_history(launch)
    if not history:
        return None
    rows = session.execute(
        select(LtiResourceLink.resource_link_id, LinkedCredential)
        .join(LinkedCredential, LinkedCredential.resource_link_id == LtiResourceLink.id)
        .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .join(Deployment, Deployment.id == LtiContext.deployment_id)
        .where(
            Deployment.registration_id == launch.registration_id,
            LtiResourceLink.resource_link_id.in_(history[:20]),
        )
    ).all()
    found = dict(rows)
    earlier = next((found[rid] for rid in history if rid in found), None)
    if earlier is None:
        return None
    return _bind(
        session,
        launch,
        link,
        earlier.credential,
        earlier.version_number,
        LinkedCredential.COPIED,
        None,
    )


def _at_version(session: Session, binding: LinkedCredential) -> Resolved:
    credential = binding.credential
    if binding.version_number is not None:
        for version in credential.versions:
            if version.number == binding.version_number and version.status != "draft":
                return Resolved(credential, version, True, binding)
        raise NotFound(
            f"Version {binding.version_number} of “{credential.slug}” is not published.",
            hint="Ask your instructor to choose the credential for this activity again.",
        )
    current = catalog.current_version(session, credential.id)
    if current is None:
        raise NotFound(
            f"“{credential.versions[-1].title}” has been retired from the catalog.",
            hint="Ask your instructor which micro-credential to work on instead.",
        )
    return Resolved(credential, current, False, binding)


def _bind(
    session: Session,
    launch: Launch,
    link: LtiResourceLink,
    credential: Credential,
    number: int | None,
    source: str,
    user: LtiUser | None,
) -> LinkedCredential:
    binding = LinkedCredential(
        registration_id=launch.registration_id,
        resource_link_id=link.id,
        credential=credential,
        version_number=number,
        source=source,
        bound_by_user_id=user.id if user else None,
    )
    try:
        with session.begin_nested():
            session.add(binding)
    except IntegrityError:
        # Two first launches of one link at once: the other one bound it.
        existing = session.scalars(
            select(LinkedCredential).where(LinkedCredential.resource_link_id == link.id)
        ).one()
        return existing
    return binding


def bind(session: Session, launch: Launch, slug: str, *, pin: bool) -> Resolved:
    """Let an instructor choose the credential of a link that has none."""
    require_content_rights(launch)
    link = _link_row(session, launch)
    if link is None:
        raise InvalidChoice("This launch is not from a course activity, so nothing can be bound.")
    existing = session.scalars(
        select(LinkedCredential).where(LinkedCredential.resource_link_id == link.id)
    ).first()
    if existing is not None:
        raise InvalidChoice(
            f"This activity already stands for “{existing.credential.slug}”.",
            hint="To change it, add the new credential as a new activity from your LMS.",
        )
    [chosen] = chosen_credentials(session, [slug], pin=pin)
    credential = session.scalars(select(Credential).where(Credential.slug == chosen.slug)).one()
    number = chosen.version_number if pin else None
    binding = _bind(
        session,
        launch,
        link,
        credential,
        number,
        LinkedCredential.CHOSEN,
        _user_row(session, launch),
    )
    session.flush()
    return _at_version(session, binding)


def visits(session: Session, resource_link_id: int) -> list[tuple[LinkVisit, LtiUser]]:
    """Return who has opened a course link, each with their visit (roles, first and last seen),
    by family name, given name and name: one statement, whatever the course's size."""
    return [
        (visit, user)
        for visit, user in session.execute(
            select(LinkVisit, LtiUser)
            .join(LtiUser, LtiUser.id == LinkVisit.user_id)
            .where(LinkVisit.resource_link_id == resource_link_id)
            .order_by(LtiUser.family_name, LtiUser.given_name, LtiUser.name)
        )
    ]


@dataclass(frozen=True)
class Placement:
    """A link of a course that stands for a credential."""

    resource_link_id: int
    credential_id: int
    slug: str


def placements(session: Session, launch: Launch) -> list[Placement]:
    """The links of the launch's course bound to a credential, in the order they were bound:
    one statement. A link is known once someone has opened it (the LMS tells the tool of a
    link only by launching it)."""
    if launch.context is None:
        return []
    rows = session.execute(
        select(LtiResourceLink.id, Credential.id, Credential.slug)
        .join(LinkedCredential, LinkedCredential.resource_link_id == LtiResourceLink.id)
        .join(Credential, Credential.id == LinkedCredential.credential_id)
        .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .join(Deployment, Deployment.id == LtiContext.deployment_id)
        .where(
            Deployment.registration_id == launch.registration_id,
            Deployment.deployment_id == launch.deployment_id,
            LtiContext.context_id == launch.context.id,
        )
        .order_by(LinkedCredential.id)
    )
    return [Placement(*row) for row in rows]


def visits_of_links(
    session: Session, resource_link_ids: Sequence[int]
) -> list[tuple[LinkVisit, LtiUser]]:
    """Who has opened any of these links, each visit with its person (a person who opened
    two of them comes twice), by family name, given name and name: one statement."""
    if not resource_link_ids:
        return []
    return [
        (visit, user)
        for visit, user in session.execute(
            select(LinkVisit, LtiUser)
            .join(LtiUser, LtiUser.id == LinkVisit.user_id)
            .where(LinkVisit.resource_link_id.in_(list(resource_link_ids)))
            .order_by(LtiUser.family_name, LtiUser.given_name, LtiUser.name, LinkVisit.id)
        )
    ]


def record_visit(session: Session, launch: Launch) -> int | None:
    """Remember that this person opened this link (for the instructor's view); return their
    user id (``None`` for an anonymous launch or one without a link).

    One statement: the link and the person are found, and the visit inserted or its time and
    roles updated, by the database (a concurrent first visit is an update)."""
    if launch.user is None or launch.resource_link is None or launch.context is None:
        return None
    user_id = session.scalar(
        _visit_statement(session.get_bind().dialect.name),
        {
            "registration_id": launch.registration_id,
            "deployment_id": launch.deployment_id,
            "context_id": launch.context.id,
            "resource_link_id": launch.resource_link.id,
            "sub": launch.user.sub,
            "roles": ", ".join(launch.role_labels)[:255],
            "now": utcnow(),
        },
    )
    return None if user_id is None else int(user_id)


@cache
def _visit_statement(dialect: str) -> Any:
    """``INSERT … SELECT … ON CONFLICT DO UPDATE`` of a visit in ``dialect``, built once."""
    links, contexts, deployments = (
        table_of(LtiResourceLink),
        table_of(LtiContext),
        table_of(Deployment),
    )
    users, visits = table_of(LtiUser), table_of(LinkVisit)
    now = bindparam("now", type_=UTCDateTime())
    found = (
        select(
            deployments.c.registration_id,
            links.c.id,
            users.c.id,
            bindparam("roles", type_=String()),
            now,
            now,
        )
        .select_from(links)
        .join(contexts, contexts.c.id == links.c.context_id)
        .join(deployments, deployments.c.id == contexts.c.deployment_id)
        .join(users, users.c.registration_id == deployments.c.registration_id)
        .where(
            deployments.c.registration_id == bindparam("registration_id"),
            deployments.c.deployment_id == bindparam("deployment_id"),
            contexts.c.context_id == bindparam("context_id"),
            links.c.resource_link_id == bindparam("resource_link_id"),
            users.c.sub == bindparam("sub"),
        )
    )
    statement = dialect_insert(dialect)(visits).from_select(
        [
            "registration_id",
            "resource_link_id",
            "user_id",
            "roles",
            "first_seen_at",
            "last_seen_at",
        ],
        found,
    )
    return statement.on_conflict_do_update(
        index_elements=["resource_link_id", "user_id"],
        set_={"roles": statement.excluded.roles, "last_seen_at": statement.excluded.last_seen_at},
    ).returning(visits.c.user_id)
