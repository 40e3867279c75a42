"""Authoring stacks: an issuer organisation's pathways — its credentials in the order educators
take them, and optionally a milestone credential earned by completing them all.

A stack has no versions: every change reaches the educator catalog at once. It always holds at
least one credential (the catalog format requires one), all of its own organisation, and its
milestone is never one of them (``exchange.meaning_problems`` says the same of a file). Moving or
removing a credential names both its place and the credential, so a form opened before someone
else reordered the stack is refused rather than applied to the wrong credential.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.catalog.authoring import InvalidChange, NotAnAuthor, Rights, _record, organisation_for
from app.catalog.authoring_forms import MARKDOWN_MAX, Field, Parsed, slugify
from app.catalog.models import Credential, CredentialVersion, Organisation, Stack, StackItem
from app.errors import Conflict, NotFound

STACK_FIELDS: tuple[Field, ...] = (
    Field(
        "title",
        "Title",
        "text",
        required=True,
        min_length=3,
        max_length=200,
        hint="What educators see in the catalog, e.g. “Formative Assessment in Practice”.",
        missing="Give the stack a title: educators see it in the catalog.",
    ),
    Field(
        "description",
        "Description",
        "markdown",
        max_length=MARKDOWN_MAX,
        hint="Who the stack is for and why its credentials go together, shown above them. "
        "Markdown: **bold**, *italic*, lists, links.",
    ),
)


class StackChanged(Conflict):
    code = "stack_changed"
    title = "Someone else changed this stack"


@dataclass(frozen=True)
class CredentialChoice:
    """A credential as the stack forms offer it."""

    id: int
    slug: str
    title: str
    organisation_id: int
    organisation: str
    published: bool
    """Educators see it now."""
    retired: bool
    """Taken out of the catalog, with no new draft."""

    @property
    def label(self) -> str:
        if self.published:
            return self.title
        return f"{self.title} (retired)" if self.retired else f"{self.title} (not published yet)"


@dataclass(frozen=True)
class StackSummary:
    """A stack as the authoring list shows it."""

    slug: str
    title: str
    organisation: str
    credentials: int
    milestone: str | None


@dataclass(frozen=True)
class StackEntry:
    """One credential of a stack, in its place."""

    number: int
    """Its place, from 1."""
    choice: CredentialChoice


def _latest_titles(session: Session, credential_ids: Iterable[int]) -> dict[int, CredentialChoice]:
    """Return how the forms name each credential: its latest version's title and whether
    educators see it (two statements)."""
    ids = list(credential_ids)
    if not ids:
        return {}
    latest = (
        select(
            CredentialVersion.credential_id.label("credential_id"),
            func.max(CredentialVersion.number).label("number"),
        )
        .where(CredentialVersion.credential_id.in_(ids))
        .group_by(CredentialVersion.credential_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Credential.id,
            Credential.slug,
            Credential.organisation_id,
            Organisation.name,
            CredentialVersion.title,
            CredentialVersion.status,
        )
        .join(Organisation, Organisation.id == Credential.organisation_id)
        .join(latest, latest.c.credential_id == Credential.id)
        .join(
            CredentialVersion,
            (CredentialVersion.credential_id == Credential.id)
            & (CredentialVersion.number == latest.c.number),
        )
    ).all()
    published = set(
        session.scalars(
            select(CredentialVersion.credential_id).where(
                CredentialVersion.credential_id.in_(ids),
                CredentialVersion.status == CredentialVersion.PUBLISHED,
            )
        )
    )
    return {
        credential_id: CredentialChoice(
            id=credential_id,
            slug=slug,
            title=title,
            organisation_id=organisation_id,
            organisation=organisation,
            published=credential_id in published,
            retired=status == CredentialVersion.RETIRED,
        )
        for credential_id, slug, organisation_id, organisation, title, status in rows
    }


def credential_choices(session: Session, organisation_ids: Iterable[int]) -> list[CredentialChoice]:
    """Return the credentials of these organisations, by organisation and title."""
    ids = session.scalars(
        select(Credential.id).where(Credential.organisation_id.in_(list(organisation_ids)))
    )
    choices = _latest_titles(session, ids).values()
    return sorted(choices, key=lambda c: (c.organisation.lower(), c.title.lower(), c.slug))


# --- Finding stacks ------------------------------------------------------------------------------


def stack_list(
    session: Session, rights: Rights, organisation_slug: str | None = None
) -> list[StackSummary]:
    """Return the stacks of the organisations this account writes for, by title."""
    query = (
        select(Stack)
        .join(Organisation, Organisation.id == Stack.organisation_id)
        .options(selectinload(Stack.items), selectinload(Stack.organisation))
        .order_by(func.lower(Stack.title), Stack.slug)
    )
    if not rights.is_operator:
        query = query.where(Stack.organisation_id.in_(list(rights.roles) or [-1]))
    if organisation_slug:
        query = query.where(Organisation.slug == organisation_slug)
    stacks = list(session.scalars(query))
    names = _latest_titles(
        session, [s.milestone_credential_id for s in stacks if s.milestone_credential_id]
    )
    return [
        StackSummary(
            slug=stack.slug,
            title=stack.title,
            organisation=stack.organisation.name,
            credentials=len(stack.items),
            milestone=names[stack.milestone_credential_id].title
            if stack.milestone_credential_id in names
            else None,
        )
        for stack in stacks
    ]


def stack_for(session: Session, rights: Rights, slug: str) -> Stack:
    """Return a stack this account may edit."""
    stack = session.scalars(select(Stack).where(Stack.slug == slug)).first()
    if stack is None:
        raise NotFound(
            "There is no stack at this address.",
            hint="Open Stacks and choose one from the list.",
        )
    if not rights.may_author(stack.organisation_id):
        raise NotAnAuthor(
            f"The stack “{stack.title}” belongs to {stack.organisation.name}, and your account "
            "does not write for it.",
            hint="Ask an operator or one of its admins to add you as an author.",
        )
    return stack


def entries_of(session: Session, stack: Stack) -> list[StackEntry]:
    """Return the stack's credentials in order."""
    names = _latest_titles(session, [item.credential_id for item in stack.items])
    return [
        StackEntry(number=n, choice=names[item.credential_id])
        for n, item in enumerate(stack.items, start=1)
    ]


def milestone_of(session: Session, stack: Stack) -> CredentialChoice | None:
    """Return the stack's milestone credential, if it has one."""
    if stack.milestone_credential_id is None:
        return None
    return _latest_titles(session, [stack.milestone_credential_id]).get(
        stack.milestone_credential_id
    )


def addable(session: Session, stack: Stack) -> list[CredentialChoice]:
    """Return the organisation's credentials that can join the stack: not in it already, not
    its milestone, not retired."""
    taken = {item.credential_id for item in stack.items} | {stack.milestone_credential_id}
    return [
        c
        for c in credential_choices(session, [stack.organisation_id])
        if not c.retired and c.id not in taken
    ]


def milestone_choices(session: Session, stack: Stack) -> list[CredentialChoice]:
    """Return the credentials that can be the stack's milestone: the organisation's, not in
    the stack, not retired (unless it is the milestone already)."""
    in_stack = {item.credential_id for item in stack.items}
    current = milestone_of(session, stack)
    return [
        c
        for c in credential_choices(session, [stack.organisation_id])
        if c.id not in in_stack
        and (not c.retired or (current is not None and c.slug == current.slug))
    ]


def _credential(session: Session, slug: str) -> Credential | None:
    return session.scalars(select(Credential).where(Credential.slug == slug)).first()


# --- Changing stacks -----------------------------------------------------------------------------


def _check_slug(session: Session, slug: str, form: Parsed) -> None:
    if not (2 <= len(slug) <= 80) or slug != slugify(slug):
        form.errors["slug"] = (
            f"“{slug}” cannot be the stack's address: use 2 to 80 lower-case letters, digits "
            "and single hyphens, e.g. formative-assessment."
        )
    elif session.scalars(select(Stack.id).where(Stack.slug == slug)).first():
        form.errors["slug"] = (
            f"There is already a stack with the address “{slug}”: choose another address."
        )


def _own_credential(
    session: Session, organisation: Organisation, slug: str, role: str
) -> tuple[Credential | None, str | None]:
    """Return the organisation's credential with this slug, or a sentence saying why not."""
    credential = _credential(session, slug)
    if credential is None:
        return None, f"There is no credential “{slug}”: choose one from the list."
    if credential.organisation_id != organisation.id:
        return None, (
            f"“{slug}” is issued by {credential.organisation.name}: a stack's {role} must be "
            f"one of {organisation.name}'s own credentials."
        )
    return credential, None


def create_stack(
    session: Session,
    rights: Rights,
    *,
    organisation_slug: str,
    slug: str,
    first_credential: str,
    form: Parsed,
) -> Stack:
    """Add a stack holding its first credential."""
    organisation = None
    if not organisation_slug:
        form.errors["organisation"] = "Choose the organisation that offers the stack."
    else:
        try:
            organisation = organisation_for(session, rights, organisation_slug)
        except NotFound:
            form.errors["organisation"] = "Choose the organisation that offers the stack."
    slug = slug.strip() or slugify(form.values.get("title") or "")
    if slug:
        _check_slug(session, slug, form)
    elif form.values.get("title"):
        form.errors["slug"] = (
            "Give the stack an address, e.g. formative-assessment: its title has no letters or "
            "digits to make one from."
        )
    credential = None
    if not first_credential:
        form.errors["credential"] = "Choose the stack's first credential."
    elif organisation is not None:
        credential, problem = _own_credential(session, organisation, first_credential, "credential")
        if problem:
            form.errors["credential"] = problem
    if form.errors or organisation is None or credential is None:
        raise InvalidChange("Some fields need attention.")
    stack = Stack(
        slug=slug,
        organisation=organisation,
        title=form.values["title"],
        description=form.values.get("description") or "",
        items=[StackItem(credential=credential, position=0)],
    )
    session.add(stack)
    _record(
        session,
        rights,
        "stack.created",
        f"stack:{slug}",
        organisation=organisation.slug,
        title=stack.title,
        credentials=[credential.slug],
    )
    session.flush()
    return stack


def update_stack(session: Session, rights: Rights, stack: Stack, form: Parsed) -> dict[str, object]:
    """Save the stack's title and description; return what changed."""
    changes: dict[str, object] = {}
    title = form.values["title"]
    description = form.values.get("description") or ""
    if title != stack.title:
        changes["title"] = {"from": stack.title, "to": title}
        stack.title = title
    if description != stack.description:
        changes["description"] = "changed"
        stack.description = description
    if changes:
        _record(session, rights, "stack.updated", f"stack:{stack.slug}", **changes)
    session.flush()
    return changes


def add_credential(
    session: Session, rights: Rights, stack: Stack, credential_slug: str
) -> Credential:
    """Put one of the organisation's credentials at the end of the stack."""
    if not credential_slug:
        raise InvalidChange("Choose the credential to add.")
    credential, problem = _own_credential(
        session, stack.organisation, credential_slug, "credential"
    )
    if problem or credential is None:
        raise InvalidChange(problem or "")
    title = _latest_titles(session, [credential.id])[credential.id].title
    if any(item.credential_id == credential.id for item in stack.items):
        raise InvalidChange(f"“{title}” is already in this stack.")
    if stack.milestone_credential_id == credential.id:
        raise InvalidChange(
            f"“{title}” is the stack's milestone: it is earned by completing the stack, so it "
            "cannot also be one of its credentials.",
            hint="Choose another milestone (or none) first.",
        )
    if credential.versions[-1].status == CredentialVersion.RETIRED:
        raise InvalidChange(f"“{title}” is retired: educators can no longer start it.")
    try:
        with session.begin_nested():
            stack.items.append(StackItem(credential=credential, position=len(stack.items)))
            session.flush()
    except IntegrityError:
        # Added by someone else between reading the stack and writing it.
        raise StackChanged(
            f"Someone added “{title}” to this stack at the same moment.",
            hint="Reload the page to see the stack as it is now.",
        ) from None
    _record(
        session,
        rights,
        "stack.credential_added",
        f"stack:{stack.slug}",
        credential=credential.slug,
        position=len(stack.items),
    )
    session.flush()
    return credential


def _item_at(session: Session, stack: Stack, number: int, credential_slug: str) -> StackItem:
    """Return the item at place ``number`` if it still holds the credential the form named."""
    items = stack.items
    item = items[number - 1] if 0 < number <= len(items) else None
    if item is None or item.credential.slug != credential_slug:
        raise StackChanged(
            "This stack changed after you opened the page: "
            + (
                f"place {number} now holds “{_title(session, item.credential_id)}”"
                if item is not None
                else f"it has no place {number} any more"
            )
            + ", not the credential you chose. Nothing was changed.",
            hint="The stack is shown below as it is now; make your change again.",
        )
    return item


def _title(session: Session, credential_id: int) -> str:
    return _latest_titles(session, [credential_id])[credential_id].title


def _renumber(stack: Stack, items: list[StackItem]) -> None:
    for position, item in enumerate(items):
        item.position = position
    stack.items = items


def move_credential(
    session: Session,
    rights: Rights,
    stack: Stack,
    number: int,
    credential_slug: str,
    direction: str,
) -> None:
    """Move the credential at place ``number`` one place up or down."""
    if direction not in {"up", "down"}:
        raise InvalidChange("The form did not say whether to move the credential up or down.")
    item = _item_at(session, stack, number, credential_slug)
    items = list(stack.items)
    index = number - 1
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(items):
        return  # already first or last: nothing to do
    items[index], items[target] = items[target], items[index]
    _renumber(stack, items)
    _record(
        session,
        rights,
        "stack.credential_moved",
        f"stack:{stack.slug}",
        credential=item.credential.slug,
        position={"from": number, "to": target + 1},
    )
    session.flush()


def remove_credential(
    session: Session, rights: Rights, stack: Stack, number: int, credential_slug: str
) -> None:
    """Take the credential at place ``number`` out of the stack (never the last one)."""
    item = _item_at(session, stack, number, credential_slug)
    if len(stack.items) == 1:
        raise InvalidChange(
            "A stack needs at least one credential, so its only one cannot be removed.",
            hint="Add the credential that replaces it first, or delete the whole stack.",
        )
    items = [other for other in stack.items if other is not item]
    stack.items.remove(item)
    _renumber(stack, items)
    _record(
        session,
        rights,
        "stack.credential_removed",
        f"stack:{stack.slug}",
        credential=credential_slug,
    )
    session.flush()


def set_milestone(session: Session, rights: Rights, stack: Stack, credential_slug: str) -> None:
    """Make a credential the stack's milestone (or, with ``""``, give it none)."""
    before = stack.milestone.slug if stack.milestone is not None else None
    if not credential_slug:
        milestone = None
    else:
        milestone, problem = _own_credential(
            session, stack.organisation, credential_slug, "milestone"
        )
        if problem or milestone is None:
            raise InvalidChange(problem or "")
        title = _title(session, milestone.id)
        if any(item.credential_id == milestone.id for item in stack.items):
            raise InvalidChange(
                f"“{title}” is one of the stack's credentials. The milestone is earned by "
                "completing all of them, so it must be another credential.",
                hint="Remove it from the stack's credentials first, or choose another milestone.",
            )
        retired = milestone.versions[-1].status == CredentialVersion.RETIRED
        if retired and credential_slug != before:
            raise InvalidChange(f"“{title}” is retired: educators can no longer earn it.")
    if credential_slug == (before or ""):
        return
    stack.milestone = milestone
    _record(
        session,
        rights,
        "stack.milestone_set" if milestone else "stack.milestone_removed",
        f"stack:{stack.slug}",
        milestone={"from": before, "to": credential_slug or None},
    )
    session.flush()


def delete_stack(session: Session, rights: Rights, stack: Stack) -> None:
    """Delete the stack; its credentials stay in the catalog."""
    _record(
        session,
        rights,
        "stack.deleted",
        f"stack:{stack.slug}",
        title=stack.title,
        credentials=[item.credential.slug for item in stack.items],
    )
    session.delete(stack)
    session.flush()
