"""The badge documents, built from the catalog and an award.

OB 3.0 (https://www.imsglobal.org/spec/ob/v3p0/): an ``OpenBadgeCredential`` whose issuer is the
organisation's did:web Profile and whose subject is an ``AchievementSubject`` identified by the
salted hash of the educator's email, with the credential version as its ``Achievement``.

OB 2.0 (https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html): a hosted
``Assertion`` (verified by fetching its id), its ``BadgeClass`` and the ``Issuer`` profile, all
on the tool's origin (a hosted assertion must share its issuer's origin).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.badges.identity import Site
from app.catalog import images
from app.catalog.models import CredentialVersion, Image, Organisation
from app.lti.keys import iso

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB2_CONTEXT = "https://w3id.org/openbadges/v2"


@dataclass(frozen=True)
class Recipient:
    """Who earned it, as the badge says: a salted hash, never the address in clear."""

    kind: str
    """``email`` or ``systemId``."""
    salt: str
    identity_hash: str
    name: str | None
    """In clear, when the earner's name is shown; ``None``: the badge names nobody."""


def hash_identity(identity: str, salt: str) -> str:
    """``sha256$`` + hex digest of identity + salt (OB 2.0 and OB 3.0 alike). Emails are
    compared lower-cased, as the validators do."""
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def image_url(site: Site, image: Image) -> str:
    return site.url(f"/catalog/images/{image.sha256}.{images.EXTENSIONS[image.media_type]}")


def achievement_url(site: Site, slug: str, number: int) -> str:
    return site.url(f"/achievements/{slug}/{number}")


def award_url(site: Site, public_id: str) -> str:
    return site.url(f"/badges/{public_id}")


def assertion_url(site: Site, public_id: str) -> str:
    return site.url(f"/ob2/assertions/{public_id}")


def badge_class_url(site: Site, slug: str, number: int) -> str:
    return site.url(f"/ob2/badges/{slug}/{number}")


def ob2_issuer_url(site: Site, organisation_slug: str) -> str:
    return site.url(f"/ob2/issuers/{organisation_slug}")


def criteria_narrative(version: CredentialVersion) -> str:
    """The rubric as Markdown: what evidence meets each criterion, and the passing rule."""
    content = version.content
    criteria = content.get("criteria", [])
    rule = content.get("passing_rule") or {"kind": "all"}
    if rule.get("kind") == "at_least":
        head = (
            f"Earned when at least {rule.get('count')} of these {len(criteria)} criteria are met:"
        )
    else:
        head = f"Earned when every one of these {len(criteria)} criteria is met:"
    lines = [head, ""]
    for number, criterion in enumerate(criteria, 1):
        descriptor = " ".join(str(criterion.get("pass_descriptor", "")).split())
        lines.append(f"{number}. **{criterion.get('title', '')}**: {descriptor}")
    return "\n".join(lines)


def profile(site: Site, organisation: Organisation) -> dict[str, Any]:
    """The OB 3.0 issuer ``Profile``."""
    found: dict[str, Any] = {
        "id": site.issuer_did(organisation.slug),
        "type": ["Profile"],
        "name": organisation.name,
        "url": organisation.url,
        "email": organisation.email,
    }
    if organisation.image is not None:
        found["image"] = {"id": image_url(site, organisation.image), "type": "Image"}
    return found


def achievement(
    site: Site, organisation: Organisation, slug: str, version: CredentialVersion
) -> dict[str, Any]:
    """The OB 3.0 ``Achievement``: the credential version, aligned to its competency."""
    content = version.content
    url = achievement_url(site, slug, version.number)
    found: dict[str, Any] = {
        "id": url,
        "type": ["Achievement"],
        "achievementType": "MicroCredential",
        "name": version.title,
        "description": version.short_description,
        "criteria": {"id": url, "narrative": criteria_narrative(version)},
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": version.title,
                "targetDescription": _plain(content.get("competency", "")),
                "targetUrl": f"{url}#competency",
                "targetType": "ceasn:Competency",
            }
        ],
        "creator": profile(site, organisation),
        "humanCode": f"{slug}-v{version.number}",
        "version": str(version.number),
    }
    if version.image is not None:
        found["image"] = {
            "id": image_url(site, version.image),
            "type": "Image",
            "caption": f"The {version.title} badge",
        }
    credit = content.get("credit")
    if credit:
        found["creditsAvailable"] = float(credit["amount"])
    if version.tags:
        found["tag"] = list(version.tags)
    return found


def credential(
    site: Site,
    *,
    public_id: str,
    organisation: Organisation,
    slug: str,
    version: CredentialVersion,
    recipient: Recipient,
    issued_at: datetime,
    valid_until: datetime | None,
    status_entry: dict[str, Any],
    evidence_narrative: str,
) -> dict[str, Any]:
    """The unsigned OB 3.0 ``OpenBadgeCredential`` for one award."""
    identifiers: list[dict[str, Any]] = [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress" if recipient.kind == "email" else "systemId",
            "hashed": True,
            "identityHash": recipient.identity_hash,
            "salt": recipient.salt,
        }
    ]
    if recipient.name:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": recipient.name,
            }
        )
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "achievement": achievement(site, organisation, slug, version),
    }
    credit = version.content.get("credit")
    if credit:
        subject["creditsEarned"] = float(credit["amount"])
    url = award_url(site, public_id)
    document: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB3_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": version.title,
        "description": version.short_description,
        "issuer": profile(site, organisation),
        "validFrom": iso(issued_at),
        "awardedDate": iso(issued_at),
        "credentialSubject": subject,
        "evidence": [
            {
                "id": f"{url}#evidence",
                "type": ["Evidence"],
                "name": "Classroom evidence, reviewed against the rubric",
                "narrative": evidence_narrative,
            }
        ],
        "credentialStatus": status_entry,
    }
    if version.image is not None:
        document["image"] = {"id": image_url(site, version.image), "type": "Image"}
    if valid_until is not None:
        document["validUntil"] = iso(valid_until)
    return document


def ob2_issuer(site: Site, organisation: Organisation) -> dict[str, Any]:
    found: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": ob2_issuer_url(site, organisation.slug),
        "name": organisation.name,
        "url": organisation.url,
        "email": organisation.email,
    }
    if organisation.description:
        found["description"] = _plain(organisation.description)
    if organisation.image is not None:
        found["image"] = image_url(site, organisation.image)
    return found


def ob2_badge_class(
    site: Site, organisation: Organisation, slug: str, version: CredentialVersion
) -> dict[str, Any]:
    url = achievement_url(site, slug, version.number)
    found: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(site, slug, version.number),
        "name": version.title,
        "description": version.short_description,
        "criteria": {"id": url, "narrative": criteria_narrative(version)},
        "issuer": ob2_issuer_url(site, organisation.slug),
        "alignment": [
            {
                "targetName": version.title,
                "targetUrl": f"{url}#competency",
                "targetDescription": _plain(version.content.get("competency", "")),
            }
        ],
        "tags": list(version.tags or []),
    }
    if version.image is not None:
        found["image"] = image_url(site, version.image)
    return found


def ob2_assertion(
    site: Site,
    *,
    public_id: str,
    slug: str,
    version_number: int,
    recipient: Recipient,
    issued_at: datetime,
    valid_until: datetime | None,
    evidence_narrative: str,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_url(site, public_id),
        "recipient": {
            "type": "email" if recipient.kind == "email" else "url",
            "hashed": True,
            "salt": recipient.salt,
            "identity": recipient.identity_hash,
        },
        "badge": badge_class_url(site, slug, version_number),
        "verification": {"type": "HostedBadge"},
        "issuedOn": iso(issued_at),
        "evidence": [{"id": award_url(site, public_id), "narrative": evidence_narrative}],
    }
    if valid_until is not None:
        found["expires"] = iso(valid_until)
    return found


def _plain(markdown: str) -> str:
    """Markdown text as one plain paragraph (for description fields shown as plain text)."""
    return " ".join(str(markdown).replace("**", "").replace("__", "").split())
