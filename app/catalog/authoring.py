"""Authoring the catalog: who may write for which issuer organisation, and the life of a
credential's versions — a draft edited field by field and list by list, published into an
immutable version, a new draft started from the latest version, the credential retired.

Operators may write for every organisation; other console accounts only for the
organisations they belong to (``catalog_author``), and an organisation's admins also manage
its authors. Every change to a draft checks the draft's ``revision`` (what the author's page
showed) so that a save never silently overwrites someone else's newer one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.admin.models import Operator
from app.admin.services import Actor
from app.catalog import exchange
from app.catalog.authoring_forms import DETAILS, LISTS, Field, Parsed, slugify
from app.catalog.models import Author, Credential, CredentialVersion, Image, Organisation
from app.db import utcnow
from app.errors import AppError, Conflict, Forbidden, NotFound

MAX_VERSIONS = 200


class NotAnAuthor(Forbidden):
    code = "not_an_author"
    title = "Not one of your organisations"


class DraftConflict(Conflict):
    code = "draft_conflict"
    title = "Someone else saved this draft"


class NotReady(AppError):
    code = "not_ready_to_publish"
    title = "Not ready to publish"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "The draft cannot be published yet: " + "; ".join(problems),
            hint="Fill in what is missing, then publish again.",
        )
        self.problems = problems


class InvalidChange(AppError):
    code = "invalid_change"
    title = "This change cannot be made"


@dataclass(frozen=True)
class Rights:
    """What a console account may do in the catalog."""

    actor: Actor
    is_operator: bool
    roles: Mapping[int, str]
    """Organisation id → ``author`` or ``admin``."""

    def may_author(self, organisation_id: int) -> bool:
        return self.is_operator or organisation_id in self.roles

    def may_manage(self, organisation_id: int) -> bool:
        return self.is_operator or self.roles.get(organisation_id) == Author.ADMIN


def rights_of(session: Session, account: Operator) -> Rights:
    """Return what this console account may do in the catalog."""
    rows = session.execute(
        select(Author.organisation_id, Author.role).where(Author.operator_id == account.id)
    )
    roles = {organisation_id: role for organisation_id, role in rows}
    return Rights(actor=Actor.of(account), is_operator=account.is_operator, roles=roles)


def admins_an_organisation(session: Session, account: Operator) -> bool:
    """Tell whether a console account is an admin of some issuer organisation."""
    return Author.ADMIN in rights_of(session, account).roles.values()


def _record(session: Session, rights: Rights, action: str, target: str, **details: Any) -> None:
    audit.record(
        session,
        actor=rights.actor.label,
        operator_id=rights.actor.operator_id,
        action=action,
        target=target,
        details=details,
    )


# --- Organisations -------------------------------------------------------------------------------


def organisations_for(session: Session, rights: Rights) -> list[Organisation]:
    """Return the organisations this account writes for, by name."""
    query = select(Organisation).order_by(Organisation.name)
    if not rights.is_operator:
        query = query.where(Organisation.id.in_(list(rights.roles) or [-1]))
    return list(session.scalars(query))


def organisation_for(session: Session, rights: Rights, slug: str) -> Organisation:
    """Return an organisation this account writes for."""
    organisation = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if organisation is None:
        raise NotFound("There is no issuer organisation at this address.")
    if not rights.may_author(organisation.id):
        raise NotAnAuthor(
            f"Your account does not write for {organisation.name}.",
            hint="Ask an operator or one of its admins to add you as an author.",
        )
    return organisation


# --- Credentials ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialSummary:
    """A credential as the authoring list shows it."""

    slug: str
    title: str
    organisation: str
    latest_number: int
    latest_status: str
    published_number: int | None
    """The version educators see now, if any."""
    updated_at: Any


def credential_list(
    session: Session, rights: Rights, organisation_slug: str | None = None
) -> list[CredentialSummary]:
    """Return the credentials this account may edit, by title (two statements)."""
    latest = (
        select(
            CredentialVersion.credential_id.label("credential_id"),
            func.max(CredentialVersion.number).label("number"),
        )
        .group_by(CredentialVersion.credential_id)
        .subquery()
    )
    query = (
        select(CredentialVersion, Credential.slug, Organisation.name)
        .join(
            latest,
            (latest.c.credential_id == CredentialVersion.credential_id)
            & (latest.c.number == CredentialVersion.number),
        )
        .join(Credential, Credential.id == CredentialVersion.credential_id)
        .join(Organisation, Organisation.id == Credential.organisation_id)
        .order_by(func.lower(CredentialVersion.title), Credential.slug)
    )
    if not rights.is_operator:
        query = query.where(Credential.organisation_id.in_(list(rights.roles) or [-1]))
    if organisation_slug:
        query = query.where(Organisation.slug == organisation_slug)
    rows = session.execute(query).all()
    published = {
        credential_id: number
        for credential_id, number in session.execute(
            select(CredentialVersion.credential_id, func.max(CredentialVersion.number))
            .where(CredentialVersion.status == CredentialVersion.PUBLISHED)
            .group_by(CredentialVersion.credential_id)
        )
    }
    return [
        CredentialSummary(
            slug=slug,
            title=version.title,
            organisation=organisation,
            latest_number=version.number,
            latest_status=version.status,
            published_number=published.get(version.credential_id),
            updated_at=version.published_at
            if version.status != CredentialVersion.DRAFT
            else version.created_at,
        )
        for version, slug, organisation in rows
    ]


def credential_for(session: Session, rights: Rights, slug: str) -> Credential:
    """Return a credential this account may edit."""
    credential = session.scalars(select(Credential).where(Credential.slug == slug)).first()
    if credential is None:
        raise NotFound(
            "There is no credential at this address.",
            hint="Open Credentials and choose one from the list.",
        )
    if not rights.may_author(credential.organisation_id):
        raise NotAnAuthor(
            f"“{slug}” belongs to {credential.organisation.name}, and your account does not "
            "write for it.",
            hint="Ask an operator or one of its admins to add you as an author.",
        )
    return credential


def draft_of(credential: Credential) -> CredentialVersion | None:
    """Return the credential's draft version, if it has one (always the latest)."""
    latest = credential.versions[-1] if credential.versions else None
    return latest if latest is not None and latest.status == CredentialVersion.DRAFT else None


def published_of(credential: Credential) -> CredentialVersion | None:
    """Return the version educators see: the latest published one (``services.current_version``
    answers the same from the database; this reads the versions an authoring page has loaded)."""
    published = [v for v in credential.versions if v.status == CredentialVersion.PUBLISHED]
    return published[-1] if published else None


def version_of(credential: Credential, number: int) -> CredentialVersion:
    """Return one of the credential's versions."""
    for version in credential.versions:
        if version.number == number:
            return version
    raise NotFound(f"{credential.slug} has no version {number}.")


def create_credential(
    session: Session, rights: Rights, *, organisation_slug: str, slug: str, title: str
) -> Credential:
    """Add a credential with an empty draft version 1 holding its title."""
    organisation = organisation_for(session, rights, organisation_slug)
    title = title.strip()
    slug = slug.strip() or slugify(title)
    if not 3 <= len(title) <= 200:
        raise InvalidChange("Give the credential a title of 3 to 200 characters.")
    if not (2 <= len(slug) <= 80) or slug != slugify(slug):
        raise InvalidChange(
            f"“{slug}” cannot be the credential's address: use 2 to 80 lower-case letters, "
            "digits and single hyphens, e.g. hinge-questions."
        )
    if session.scalars(select(Credential.id).where(Credential.slug == slug)).first():
        raise InvalidChange(
            f"There is already a credential with the address “{slug}”.",
            hint="Choose another address; it appears in links and on badges.",
        )
    credential = Credential(slug=slug, organisation=organisation)
    session.add(credential)
    session.flush()
    session.add(
        CredentialVersion(
            credential=credential,
            number=1,
            status=CredentialVersion.DRAFT,
            revision=1,
            content={"title": title},
            title=title,
            short_description="",
            tags=[],
        )
    )
    _record(
        session, rights, "credential.created", f"credential:{slug}", organisation=organisation.slug
    )
    session.flush()
    return credential


def _editable_draft(credential: Credential, revision: int) -> CredentialVersion:
    draft = draft_of(credential)
    if draft is None:
        raise InvalidChange(
            f"{credential.slug} has no draft to change: its latest version is published.",
            hint="Start a new draft from the credential's page first.",
        )
    if draft.revision != revision:
        raise DraftConflict(
            "Someone saved this draft after you opened it, so your change was not saved over "
            "theirs.",
            hint="Your text is still on this page: copy what you need, reload to see their "
            "version, and make your change again.",
        )
    return draft


def _write(draft: CredentialVersion, content: dict[str, Any]) -> None:
    problems = exchange.content_problems(content, status=CredentialVersion.DRAFT)
    if problems:
        # The forms check every field first; this is the catalog format's last word.
        raise InvalidChange("The draft would not be valid: " + "; ".join(problems))
    draft.content = content
    draft.title = content["title"]
    draft.short_description = content.get("short_description", "")
    draft.tags = list(content.get("tags", []))
    draft.estimated_hours = content.get("estimated_hours")
    draft.revision += 1


def _merge(content: dict[str, Any], fields: tuple[Field, ...], values: dict[str, Any]) -> None:
    """Put the form's values into the content; an empty value removes its key."""
    for f in fields:
        value: Any = values
        for part in f.key:
            value = value.get(part) if isinstance(value, dict) else None
        holder = content
        for part in f.key[:-1]:
            holder = holder.setdefault(part, {})
        if value is None:
            holder.pop(f.key[-1], None)
        else:
            holder[f.key[-1]] = value
    for group in ("credit", "passing_rule", "review"):
        if group in content and not content[group]:
            del content[group]


def save_details(
    session: Session, rights: Rights, credential: Credential, revision: int, form: Parsed
) -> CredentialVersion:
    """Save the draft's own fields (title, descriptions, metadata, rules)."""
    draft = _editable_draft(credential, revision)
    content = copy.deepcopy(draft.content)
    _merge(content, DETAILS, form.values)
    credit = content.get("credit")
    if credit is not None and set(credit) != {"amount", "unit"}:
        missing = "credit_unit" if "unit" not in credit else "credit_amount"
        form.errors[missing] = "Give both the credit's amount and its unit, or neither."
    rule = content.get("passing_rule")
    if rule is not None:
        if rule.get("kind", "all") == "all":
            rule.pop("count", None)
            if rule.get("kind") == "all":
                del content["passing_rule"]  # every criterion met is the default
        elif "count" not in rule:
            form.errors["passing_count"] = "Say how many criteria must be met."
        elif rule["count"] > max(1, len(content.get("criteria", []))):
            form.errors["passing_count"] = (
                f"The rubric has {len(content.get('criteria', []))} criteria: give a number "
                "up to that."
            )
    if form.errors:
        raise InvalidChange("Some fields need attention.")
    _write(draft, content)
    session.flush()
    return draft


def list_choices(draft: CredentialVersion) -> dict[str, list[tuple[str, str]]]:
    """Return the options that depend on the draft: a criterion judges one of its parts."""
    return {"part": [(p["key"], p["title"]) for p in draft.content.get("parts", [])]}


def save_item(
    session: Session,
    rights: Rights,
    credential: Credential,
    revision: int,
    list_name: str,
    index: int | None,
    form: Parsed,
) -> CredentialVersion:
    """Add an item to one of the draft's lists (``index`` ``None``) or change one."""
    spec = LISTS[list_name]
    draft = _editable_draft(credential, revision)
    content = copy.deepcopy(draft.content)
    items: list[dict[str, Any]] = content.setdefault(list_name, [])
    if index is not None and not 0 <= index < len(items):
        raise NotFound(f"There is no {spec.singular} {index + 1} in this draft.")
    item = copy.deepcopy(items[index]) if index is not None else {}
    _merge(item, spec.fields, form.values)
    if "key" in {f.name for f in spec.fields}:
        item["key"] = item.get("key") or _free_key(
            slugify(item.get("title", "")) or spec.singular, items, index
        )
        if any(other.get("key") == item["key"] for i, other in enumerate(items) if i != index):
            form.errors["key"] = f"Another {spec.singular} already has the key “{item['key']}”."
    if form.errors:
        raise InvalidChange("Some fields need attention.")
    if index is None:
        items.append(item)
    else:
        old_key = items[index].get("key")
        items[index] = item
        if list_name == "parts" and old_key and old_key != item["key"]:
            for criterion in content.get("criteria", []):
                if criterion.get("part") == old_key:
                    criterion["part"] = item["key"]
    _write(draft, content)
    session.flush()
    return draft


def _free_key(base: str, items: list[dict[str, Any]], index: int | None) -> str:
    taken = {item.get("key") for i, item in enumerate(items) if i != index}
    key, n = base[:76], 2
    while key in taken:
        key, n = f"{base[:76]}-{n}", n + 1
    return key


def move_item(
    session: Session,
    rights: Rights,
    credential: Credential,
    revision: int,
    list_name: str,
    index: int,
    direction: str,
) -> CredentialVersion:
    """Move an item one place up or down in its list."""
    draft = _editable_draft(credential, revision)
    content = copy.deepcopy(draft.content)
    items = content.get(list_name, [])
    target = index - 1 if direction == "up" else index + 1
    if direction not in {"up", "down"} or not (0 <= index < len(items)):
        raise InvalidChange("The form did not say which item to move, or where.")
    if not 0 <= target < len(items):
        return draft  # already first or last: nothing to do
    items[index], items[target] = items[target], items[index]
    _write(draft, content)
    session.flush()
    return draft


def delete_item(
    session: Session,
    rights: Rights,
    credential: Credential,
    revision: int,
    list_name: str,
    index: int,
) -> CredentialVersion:
    """Remove an item from one of the draft's lists (a part only when no criterion judges it)."""
    spec = LISTS[list_name]
    draft = _editable_draft(credential, revision)
    content = copy.deepcopy(draft.content)
    items = content.get(list_name, [])
    if not 0 <= index < len(items):
        raise NotFound(f"There is no {spec.singular} {index + 1} in this draft.")
    if list_name == "parts":
        judged_by = [
            c.get("title", c.get("key", ""))
            for c in content.get("criteria", [])
            if c.get("part") == items[index].get("key")
        ]
        if judged_by:
            raise InvalidChange(
                f"The part “{items[index].get('title')}” is judged by the rubric's "
                + ", ".join(f"“{t}”" for t in judged_by)
                + ".",
                hint="Change or remove those criteria first.",
            )
    del items[index]
    if not items:
        content.pop(list_name)
    _write(draft, content)
    session.flush()
    return draft


def set_image(
    session: Session, rights: Rights, credential: Credential, revision: int, image: Image | None
) -> CredentialVersion:
    """Give the draft its badge image (or none)."""
    draft = _editable_draft(credential, revision)
    draft.image = image
    draft.revision += 1
    _record(
        session,
        rights,
        "credential.image_changed" if image else "credential.image_removed",
        f"credential:{credential.slug}",
        version=draft.number,
    )
    session.flush()
    return draft


# --- Publishing, new drafts, retiring ------------------------------------------------------------

LABELS: dict[str, str] = {f.name: f.label for f in DETAILS} | {
    spec.name: spec.title for spec in LISTS.values()
}


def publish_problems(draft: CredentialVersion) -> list[str]:
    """Say what the draft lacks before it can be published, in the author's words."""
    problems = []
    for problem in exchange.content_problems(draft.content, status=CredentialVersion.PUBLISHED):
        problems.append(_in_words(problem))
    if draft.image is None:
        problems.append("Badge image: upload a PNG or SVG for the badge.")
    return problems


def _in_words(problem: str) -> str:
    where, _, message = problem.partition(": ")
    if where == "(the version)" and message.endswith(" is missing"):
        name = message.removesuffix(" is missing").strip("'")
        if name in LISTS:
            return f"{LISTS[name].title}: add at least one {LISTS[name].singular}."
        return f"{LABELS.get(name, name)}: fill it in."
    top = where.split(".")[0].split("[")[0]
    if top in LISTS and message.endswith("should be non-empty"):
        return f"{LISTS[top].title}: add at least one {LISTS[top].singular}."
    return f"{LABELS.get(top, where)}: {message}"


def publish(
    session: Session, rights: Rights, credential: Credential, revision: int
) -> CredentialVersion:
    """Publish the draft: it becomes an immutable version, and what educators see."""
    draft = _editable_draft(credential, revision)
    problems = publish_problems(draft)
    if problems:
        raise NotReady(problems)
    draft.status = CredentialVersion.PUBLISHED
    draft.published_at = utcnow()
    _record(
        session,
        rights,
        "credential.published",
        f"credential:{credential.slug}",
        version=draft.number,
        title=draft.title,
    )
    session.flush()
    return draft


def start_draft(session: Session, rights: Rights, credential: Credential) -> CredentialVersion:
    """Start a new draft from the latest version (published or retired), image included."""
    if draft_of(credential) is not None:
        raise InvalidChange(
            f"{credential.slug} already has a draft (version {credential.versions[-1].number}).",
            hint="Open the draft and change it there.",
        )
    latest = credential.versions[-1]
    if latest.number >= MAX_VERSIONS:
        raise InvalidChange(f"A credential may have at most {MAX_VERSIONS} versions.")
    draft = CredentialVersion(
        credential=credential,
        number=latest.number + 1,
        status=CredentialVersion.DRAFT,
        revision=1,
        content=copy.deepcopy(latest.content),
        title=latest.title,
        short_description=latest.short_description,
        tags=list(latest.tags or []),
        estimated_hours=latest.estimated_hours,
        image=latest.image,
    )
    session.add(draft)
    _record(
        session,
        rights,
        "credential.draft_started",
        f"credential:{credential.slug}",
        version=draft.number,
        from_version=latest.number,
    )
    session.flush()
    return draft


def retire(
    session: Session, rights: Rights, credential: Credential, reason: str
) -> list[CredentialVersion]:
    """Take the credential out of the catalog: every published version becomes retired.
    Educators who started it keep their work; nobody new can start it."""
    reason = reason.strip()
    if not reason:
        raise InvalidChange(
            "Say why the credential is retired.",
            hint="The reason is kept in the audit log for whoever asks later.",
        )
    if len(reason) > 500:
        raise InvalidChange("Keep the reason to 500 characters.")
    retired = [v for v in credential.versions if v.status == CredentialVersion.PUBLISHED]
    if not retired:
        raise InvalidChange(f"{credential.slug} has no published version to retire.")
    now = utcnow()
    for version in retired:
        version.status = CredentialVersion.RETIRED
        version.retired_at = now
    _record(
        session,
        rights,
        "credential.retired",
        f"credential:{credential.slug}",
        versions=[v.number for v in retired],
        reason=reason,
    )
    session.flush()
    return retired


# --- Organisations' profiles and authors ---------------------------------------------------------

DEFAULT_TURNAROUND_DAYS = 14

REVIEW_SETTINGS: tuple[Field, ...] = (
    Field(
        "blind_review",
        "Blind review: assessors do not see educators' names, emails or courses",
        "bool",
        hint="For every credential of the organisation; a credential can also ask for it alone.",
    ),
    Field(
        "turnaround_days",
        "Review turnaround target in days",
        "int",
        minimum=1,
        maximum=90,
        default=DEFAULT_TURNAROUND_DAYS,
        hint="Submissions waiting longer are flagged overdue, unless a credential sets its own "
        f"target. 1 to 90; leave empty for {DEFAULT_TURNAROUND_DAYS}.",
    ),
)
"""The organisation's review settings, saved with its profile."""

BADGE_SETTINGS: tuple[Field, ...] = (
    Field(
        "badge_name_shown",
        "Names in badges",
        "select",
        choices=(
            ("shown", "Shown by default: the educator may choose to leave their name out"),
            ("hidden", "Not shown by default: the educator may choose to show it"),
        ),
        default="shown",
        hint="Whether the badges this organisation issues carry the educator's name, in clear, "
        "beside the hashed email that identifies them. A signed badge never changes: a new "
        "setting applies to badges issued from then on.",
        missing="Choose whether names in badges are shown or not shown by default.",
    ),
)
"""The organisation's badge settings, saved with its profile."""

ORGANISATION_FIELDS: tuple[Field, ...] = (
    Field(
        "name",
        "Name",
        "text",
        required=True,
        min_length=1,
        max_length=200,
        hint="As it appears on badges, e.g. Lakemont Institute for Teaching and Learning.",
        missing="Enter the organisation's name as it should appear on badges.",
    ),
    Field(
        "url",
        "Web address",
        "url",
        required=True,
        max_length=1024,
        hint="The organisation's site; badges link to it.",
        missing="Enter the organisation's web address, starting with https://.",
    ),
    Field(
        "email",
        "Contact email",
        "text",
        required=True,
        max_length=320,
        hint="Where educators and verifiers can ask about its credentials.",
        missing="Enter a contact email address, e.g. badges@lakemont.example.edu.",
    ),
    Field(
        "description",
        "About",
        "markdown",
        max_length=20000,
        hint="A short description for the catalog and the badge's issuer profile. Markdown.",
    ),
    *REVIEW_SETTINGS,
    *BADGE_SETTINGS,
)
ROLE_LABELS = {Author.AUTHOR: "Author", Author.ADMIN: "Organisation admin"}


def _manageable(rights: Rights, organisation: Organisation) -> None:
    if not rights.may_manage(organisation.id):
        raise NotAnAuthor(
            f"Only operators and {organisation.name}'s admins can change its profile and authors.",
            hint="Ask one of its admins.",
        )


def update_organisation(
    session: Session, rights: Rights, organisation: Organisation, form: Parsed
) -> dict[str, Any]:
    """Save an organisation's profile; return what changed (from → to)."""
    _manageable(rights, organisation)
    values = form.values
    if values.get("email") and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"]):
        form.errors["email"] = "Enter an email address, e.g. badges@lakemont.example.edu."
    if form.errors:
        raise InvalidChange("Some fields need attention.")
    changes: dict[str, Any] = {}
    for f in ORGANISATION_FIELDS:
        new = _organisation_value(f, values.get(f.name))
        old = getattr(organisation, f.name)
        if new != old:
            changes[f.name] = {"from": old, "to": new} if f.kind != "markdown" else "changed"
            setattr(organisation, f.name, new)
    if changes:
        _record(
            session, rights, "organisation.updated", f"organisation:{organisation.slug}", **changes
        )
    session.flush()
    return changes


def organisation_form_values(organisation: Organisation) -> dict[str, Any]:
    """Return the profile form's values for what the organisation holds now."""
    values = {f.name: getattr(organisation, f.name) for f in ORGANISATION_FIELDS}
    values["badge_name_shown"] = "shown" if organisation.badge_name_shown else "hidden"
    return values


def _organisation_value(f: Field, value: Any) -> Any:
    """Return what the organisation's column holds for a form's value (empty → the default)."""
    if f.kind == "bool":
        return bool(value)
    if f.name == "badge_name_shown":
        return value != "hidden"
    if f.name == "turnaround_days":
        return value or DEFAULT_TURNAROUND_DAYS
    return value or ""


def organisation_to_manage(session: Session, rights: Rights, slug: str) -> Organisation:
    """Return an organisation whose profile this account may change."""
    organisation = organisation_for(session, rights, slug)
    _manageable(rights, organisation)
    return organisation


def set_organisation_image(
    session: Session, rights: Rights, organisation: Organisation, image: Image | None
) -> None:
    """Give the organisation its issuer image (or none)."""
    _manageable(rights, organisation)
    if image is None and organisation.image is None:
        return
    organisation.image = image
    _record(
        session,
        rights,
        "organisation.image_changed" if image else "organisation.image_removed",
        f"organisation:{organisation.slug}",
    )
    session.flush()


def create_organisation(session: Session, rights: Rights, slug: str, form: Parsed) -> Organisation:
    """Add an issuer organisation (operators only)."""
    if not rights.is_operator:
        raise NotAnAuthor("Only operators can add issuer organisations.")
    slug = slug.strip() or slugify(form.values.get("name") or "")
    if not (2 <= len(slug) <= 80) or slug != slugify(slug):
        form.errors["slug"] = (
            "Use 2 to 80 lower-case letters, digits and single hyphens, e.g. lakemont-itl."
        )
    elif session.scalars(select(Organisation.id).where(Organisation.slug == slug)).first():
        form.errors["slug"] = f"There is already an organisation with the address “{slug}”."
    organisation = Organisation(
        slug=slug,
        name="",
        url="",
        email="",
        description="",
        blind_review=False,
        turnaround_days=DEFAULT_TURNAROUND_DAYS,
        badge_name_shown=True,
    )
    if form.errors:
        raise InvalidChange("Some fields need attention.")
    session.add(organisation)
    update_organisation(session, rights, organisation, form)
    _record(session, rights, "organisation.created", f"organisation:{slug}")
    session.flush()
    return organisation


@dataclass(frozen=True)
class Membership:
    account_id: int
    email: str
    name: str
    role: str
    is_active: bool


def authors_of(session: Session, organisation: Organisation) -> list[Membership]:
    """Return the accounts that write for an organisation, by name."""
    rows = session.execute(
        select(Operator, Author.role)
        .join(Author, Author.operator_id == Operator.id)
        .where(Author.organisation_id == organisation.id)
        .order_by(Operator.name, Operator.email)
    ).all()
    return [
        Membership(
            account_id=account.id,
            email=account.email,
            name=account.name,
            role=role,
            is_active=account.is_active,
        )
        for account, role in rows
    ]


def add_author(
    session: Session,
    rights: Rights,
    organisation: Organisation,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
) -> tuple[Operator, bool]:
    """Let a console account write for the organisation, creating the account (an author
    only, not an operator) when there is none with that email; return it and whether it is
    new. An existing account keeps its password; its role here is set to ``role``."""
    from app.admin import services as accounts

    _manageable(rights, organisation)
    if role not in ROLE_LABELS:
        raise InvalidChange("Choose a role: Author or Organisation admin.")
    account = accounts.find_operator(session, email)
    created = account is None
    if account is None:
        if not password:
            raise InvalidChange(
                "There is no account with this email yet: give a first password (at least "
                "12 characters) to tell them.",
                hint="They can be given a new one later with `flask operator set-password`.",
            )
        account = accounts.create_operator(
            session, rights.actor, email=email, name=name, password=password, is_operator=False
        )
    membership = session.scalars(
        select(Author).where(
            Author.operator_id == account.id, Author.organisation_id == organisation.id
        )
    ).first()
    if membership is None:
        session.add(Author(operator_id=account.id, organisation_id=organisation.id, role=role))
    else:
        membership.role = role
    _record(
        session,
        rights,
        "organisation.author_added",
        f"organisation:{organisation.slug}",
        account=account.email,
        role=role,
    )
    session.flush()
    return account, created


def remove_author(
    session: Session, rights: Rights, organisation: Organisation, account_id: int
) -> None:
    """Stop an account writing for the organisation (the account itself stays)."""
    _manageable(rights, organisation)
    membership = session.scalars(
        select(Author).where(
            Author.operator_id == account_id, Author.organisation_id == organisation.id
        )
    ).first()
    if membership is None:
        raise NotFound("That account does not write for this organisation.")
    account = session.get(Operator, account_id)
    session.delete(membership)
    _record(
        session,
        rights,
        "organisation.author_removed",
        f"organisation:{organisation.slug}",
        account=account.email if account else str(account_id),
    )
    session.flush()
