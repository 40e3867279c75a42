"""The catalog file format (``catalog.schema.json``): import and export.

``import_catalog`` checks a whole file first — the JSON Schema, then what a schema cannot say
(criteria point at parts that exist, version numbers run 1, 2, 3…, stacks name credentials the
file or the database has) — and reports every problem with the path of the field it is in, such
as ``credentials[2].versions[0].criteria[1].part``. Only a file without problems is applied, in
one transaction. Every embedded image is checked as an upload is (``app.catalog.images``) and
stored as checked, an SVG sanitised. A published version never changes: importing different
content for it is an error that says to add a new version. ``export_catalog`` writes every
organisation, credential version and stack in the order they were created, so export → import →
export gives the same file (sanitising a sanitised SVG changes nothing).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.images import ImageRejected, check_image, store_image
from app.catalog.models import (
    Credential,
    CredentialVersion,
    Image,
    Organisation,
    Stack,
    StackItem,
)

FORMAT = "microcred-catalog/1"
VERSION_META = ("number", "status", "published_at", "retired_at", "image")


class CatalogInvalid(ValueError):
    """The file has problems; ``problems`` lists each as ``path: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the catalog file")
        self.problems = problems


@dataclass
class ImportSummary:
    organisations: int = 0
    credentials: int = 0
    versions_added: int = 0
    versions_changed: int = 0
    stacks: int = 0
    unchanged: list[str] = field(default_factory=list)


@cache
def schema() -> dict[str, Any]:
    """The catalog format's JSON Schema."""
    text = resources.files("app.catalog").joinpath("catalog.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _path(parts: Any, whole: str = "(the file)") -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or whole


def schema_problems(document: Any) -> list[str]:
    """Every JSON Schema violation, as ``path: message``, in document order."""
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{_path(e.absolute_path)}: {_message(e)}" for e in errors]


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    if error.validator == "required":
        return error.message.replace("is a required property", "is missing")
    if error.validator == "pattern" and error.schema is schema()["$defs"]["slug"]:
        return f"{error.instance!r} is not a slug (lower-case letters, digits, single hyphens)"
    return error.message


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checked_image(image: dict[str, Any], where: str, problems: list[str]) -> None:
    """Add a problem if the embedded image is not base64, not an image we accept, or not the
    type it declares."""
    try:
        data = base64.b64decode(image["data"], validate=True)
    except (binascii.Error, ValueError):
        problems.append(f"{where}.data: is not base64")
        return
    try:
        checked = check_image(data)
    except ImageRejected as exc:
        problems.append(f"{where}: {exc}")
        return
    if checked.media_type != image["media_type"]:
        problems.append(
            f"{where}.media_type: the data is {checked.media_type}, not {image['media_type']}"
        )


def meaning_problems(document: dict[str, Any], session: Session) -> list[str]:
    """What the schema cannot check: references, numbering, published versions unchanged."""
    problems: list[str] = []
    known_orgs = {o["slug"] for o in document["organisations"]} | set(
        session.scalars(select(Organisation.slug))
    )
    seen: set[str] = set()
    for i, org in enumerate(document["organisations"]):
        if org["slug"] in seen:
            problems.append(f"organisations[{i}].slug: {org['slug']!r} appears twice")
        seen.add(org["slug"])
        if "image" in org:
            _checked_image(org["image"], f"organisations[{i}].image", problems)
    credential_slugs: set[str] = set()
    for i, credential in enumerate(document["credentials"]):
        where = f"credentials[{i}]"
        if credential["slug"] in credential_slugs:
            problems.append(f"{where}.slug: {credential['slug']!r} appears twice")
        credential_slugs.add(credential["slug"])
        if credential["organisation"] not in known_orgs:
            problems.append(
                f"{where}.organisation: no organisation {credential['organisation']!r} in the "
                "file or the catalog"
            )
        problems.extend(_version_problems(credential, where, session))
    known_credentials = credential_slugs | set(session.scalars(select(Credential.slug)))
    stack_slugs: set[str] = set()
    for i, stack in enumerate(document["stacks"]):
        where = f"stacks[{i}]"
        if stack["slug"] in stack_slugs:
            problems.append(f"{where}.slug: {stack['slug']!r} appears twice")
        stack_slugs.add(stack["slug"])
        if stack["organisation"] not in known_orgs:
            problems.append(f"{where}.organisation: no organisation {stack['organisation']!r}")
        for j, slug in enumerate(stack["credentials"]):
            if slug not in known_credentials:
                problems.append(f"{where}.credentials[{j}]: no credential {slug!r}")
        milestone = stack.get("milestone")
        if milestone is not None:
            if milestone not in known_credentials:
                problems.append(f"{where}.milestone: no credential {milestone!r}")
            if milestone in stack["credentials"]:
                problems.append(
                    f"{where}.milestone: {milestone!r} is also in the stack's credentials; the "
                    "milestone is earned by completing them"
                )
    return problems


def _version_problems(credential: dict[str, Any], where: str, session: Session) -> list[str]:
    problems: list[str] = []
    versions = credential["versions"]
    existing = {
        v.number: v
        for v in session.scalars(
            select(CredentialVersion).join(Credential).where(Credential.slug == credential["slug"])
        )
    }
    for k, version in enumerate(versions):
        at = f"{where}.versions[{k}]"
        if version["number"] != k + 1:
            problems.append(f"{at}.number: expected {k + 1} (versions run 1, 2, 3… in order)")
        if version["status"] == "draft" and k != len(versions) - 1:
            problems.append(f"{at}.status: only the last version may be a draft")
        if version["status"] in ("published", "retired") and "published_at" not in version:
            problems.append(f"{at}.published_at: a {version['status']} version needs it")
        if version["status"] == "retired" and "retired_at" not in version:
            problems.append(f"{at}.retired_at: a retired version needs it")
        problems.extend(_content_meaning_problems(version, at))
        if "image" in version:
            _checked_image(version["image"], f"{at}.image", problems)
        stored = existing.get(version["number"])
        if stored is not None and stored.status != CredentialVersion.DRAFT:
            if _content(version) != stored.content:
                problems.append(
                    f"{at}: version {version['number']} of {credential['slug']!r} is published "
                    "and cannot change; add it as a new version"
                )
            if version["status"] == "draft":
                problems.append(f"{at}.status: a published version cannot become a draft again")
    return problems


def _content_meaning_problems(version: dict[str, Any], at: str) -> list[str]:
    """Keys unique, criteria judging parts that exist, a passing count the rubric can meet."""
    problems: list[str] = []
    parts, criteria = version.get("parts", []), version.get("criteria", [])
    part_keys = [p["key"] for p in parts]
    for dup in sorted({key for key in part_keys if part_keys.count(key) > 1}):
        problems.append(f"{at}.parts: key {dup!r} appears twice")
    criterion_keys = [c["key"] for c in criteria]
    for dup in sorted({key for key in criterion_keys if criterion_keys.count(key) > 1}):
        problems.append(f"{at}.criteria: key {dup!r} appears twice")
    for m, criterion in enumerate(criteria):
        if criterion["part"] not in part_keys:
            problems.append(
                f"{at}.criteria[{m}].part: no part {criterion['part']!r} in this version "
                f"(parts: {', '.join(part_keys)})"
            )
    rule = version.get("passing_rule", {"kind": "all"})
    if rule["kind"] == "at_least":
        count = rule.get("count")
        if count is None or count > max(1, len(criteria)):
            problems.append(f"{at}.passing_rule.count: give a number from 1 to {len(criteria)}")
    return problems


def content_problems(content: dict[str, Any], *, status: str) -> list[str]:
    """Check a version's content as it would be with this status (a draft may be unfinished),
    as ``path: message`` with paths inside the version, e.g. ``criteria[1].part``."""
    version = {"number": 1, "status": status, **content}
    if status != "draft":
        version["published_at"] = "2026-01-01T00:00:00Z"
    validator = jsonschema.Draft202012Validator(
        {"$defs": schema()["$defs"], "$ref": "#/$defs/version"},
        format_checker=jsonschema.FormatChecker(),
    )
    errors = sorted(validator.iter_errors(version), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{_path(e.absolute_path, '(the version)')}: {_message(e)}" for e in errors]
    if problems:
        return problems
    return [p.removeprefix(".") for p in _content_meaning_problems(version, "")]


def _content(version: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in version.items() if k not in VERSION_META}


def _image(session: Session, image: dict[str, Any] | None) -> Image | None:
    """Store the embedded image as checked (an SVG sanitised); its problems were ruled out."""
    if image is None:
        return None
    return store_image(session, check_image(base64.b64decode(image["data"])))


def import_catalog(session: Session, document: Any) -> ImportSummary:
    """Check and apply a catalog document (uncommitted); raise ``CatalogInvalid`` with every
    problem if there is any, having written nothing."""
    problems = schema_problems(document)
    if problems:
        raise CatalogInvalid(problems)
    problems = meaning_problems(document, session)
    if problems:
        raise CatalogInvalid(problems)
    summary = ImportSummary()
    organisations = {o.slug: o for o in session.scalars(select(Organisation))}
    for data in document["organisations"]:
        image = _image(session, data.get("image"))
        org = organisations.get(data["slug"])
        if org is None:
            org = Organisation(slug=data["slug"])
            session.add(org)
            organisations[org.slug] = org
        org.name, org.url, org.email = data["name"], data["url"], data["email"]
        org.description = data.get("description", "")
        org.image = image
        summary.organisations += 1
    session.flush()
    credentials = {c.slug: c for c in session.scalars(select(Credential))}
    for data in document["credentials"]:
        credential = credentials.get(data["slug"])
        if credential is None:
            credential = Credential(
                slug=data["slug"], organisation=organisations[data["organisation"]]
            )
            session.add(credential)
            session.flush()
            credentials[credential.slug] = credential
        summary.credentials += 1
        stored = {v.number: v for v in credential.versions}
        for version in data["versions"]:
            row = stored.get(version["number"])
            if row is not None and row.status == version["status"] != CredentialVersion.DRAFT:
                summary.unchanged.append(f"{credential.slug} v{row.number}")
                continue
            # Stored before the version is touched: storing flushes, and a version flushed as
            # published could not take its image afterwards.
            image = _image(session, version.get("image"))
            if row is None:
                row = CredentialVersion(credential=credential, number=version["number"])
                session.add(row)
                summary.versions_added += 1
            else:
                summary.versions_changed += 1
            _apply_version(row, version, image)
    session.flush()
    stacks = {s.slug: s for s in session.scalars(select(Stack))}
    for data in document["stacks"]:
        stack = stacks.get(data["slug"])
        if stack is None:
            stack = Stack(slug=data["slug"])
            session.add(stack)
        stack.organisation = organisations[data["organisation"]]
        stack.title = data["title"]
        stack.description = data["description"]
        milestone = data.get("milestone")
        stack.milestone = credentials[milestone] if milestone else None
        stack.items.clear()
        session.flush()  # the old items go before the new ones arrive (one row per credential)
        stack.items = [
            StackItem(credential=credentials[slug], position=position)
            for position, slug in enumerate(data["credentials"])
        ]
        summary.stacks += 1
    session.flush()
    return summary


def _apply_version(row: CredentialVersion, version: dict[str, Any], image: Image | None) -> None:
    content = _content(version)
    row.status = version["status"]
    row.content = content
    row.title = content["title"]
    row.short_description = content.get("short_description", "")
    row.tags = list(content.get("tags", []))
    row.estimated_hours = content.get("estimated_hours")
    row.published_at = _parse_time(version.get("published_at"))
    row.retired_at = _parse_time(version.get("retired_at"))
    row.image = image


def _image_out(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {"media_type": image.media_type, "data": base64.b64encode(image.data).decode()}


def export_catalog(session: Session) -> dict[str, Any]:
    """The whole catalog as a document in the catalog format."""
    organisations = []
    for org in session.scalars(select(Organisation).order_by(Organisation.id)):
        item: dict[str, Any] = {
            "slug": org.slug,
            "name": org.name,
            "url": org.url,
            "email": org.email,
        }
        if org.description:
            item["description"] = org.description
        if org.image is not None:
            item["image"] = _image_out(org.image)
        organisations.append(item)
    credentials = []
    for credential in session.scalars(select(Credential).order_by(Credential.id)):
        versions = []
        for row in credential.versions:
            version: dict[str, Any] = {"number": row.number, "status": row.status}
            for name, value in (
                ("published_at", _format_time(row.published_at)),
                ("retired_at", _format_time(row.retired_at)),
                ("image", _image_out(row.image)),
            ):
                if value is not None:
                    version[name] = value
            version.update(row.content)
            versions.append(version)
        credentials.append(
            {
                "slug": credential.slug,
                "organisation": credential.organisation.slug,
                "versions": versions,
            }
        )
    stacks = []
    for stack in session.scalars(select(Stack).order_by(Stack.id)):
        item = {
            "slug": stack.slug,
            "organisation": stack.organisation.slug,
            "title": stack.title,
            "description": stack.description,
            "credentials": [i.credential.slug for i in stack.items],
        }
        if stack.milestone is not None:
            item["milestone"] = stack.milestone.slug
        stacks.append(item)
    return {
        "format": FORMAT,
        "organisations": organisations,
        "credentials": credentials,
        "stacks": stacks,
    }
