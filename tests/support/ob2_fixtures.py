"""A hand-made Open Badges 2.0 hosted set (issuer, badge class, image, assertions), adapted
from the reference's ``ob2_fixture_server.py``: known inputs for the validator harness."""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import Any

from tests.support.static_server import StaticServer

CONTEXT = "https://w3id.org/openbadges/v2"
EMAIL = "teacher@example.org"
SALT = "s4lt"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def tiny_png() -> bytes:
    """An 8x8 opaque blue PNG."""
    width = height = 8
    raw = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def bake_png(png: bytes, text: str) -> bytes:
    """Bake ``text`` (an assertion's JSON) into ``png`` as OB 2.0 does: an uncompressed iTXt
    chunk with the keyword ``openbadges``, before IEND."""
    itxt = _chunk(b"iTXt", b"openbadges\x00\x00\x00\x00\x00" + text.encode())
    iend = png.rindex(b"IEND") - 4  # the IEND chunk starts with its 4-byte length
    return png[:iend] + itxt + png[iend:]


def hashed_email(email: str, salt: str = SALT) -> str:
    return "sha256$" + hashlib.sha256((email + salt).encode()).hexdigest()


def serve_hosted_set(server: StaticServer) -> dict[str, str]:
    """Publish the set on ``server``; return the assertions' URLs by name: ``good``,
    ``gone`` (410 Gone, revoked), ``revoked`` (200 with ``revoked: true``, which the
    validator misses) and ``bad-missing-badge``."""
    base = server.url
    server.put("/badge.png", tiny_png(), "image/png")
    server.put_json(
        "/issuer",
        {
            "@context": CONTEXT,
            "type": "Issuer",
            "id": f"{base}/issuer",
            "name": "Example District PD Office",
            "url": f"{base}/",
            "email": "pd@example.org",
        },
    )
    server.put_json(
        "/badgeclass",
        {
            "@context": CONTEXT,
            "type": "BadgeClass",
            "id": f"{base}/badgeclass",
            "name": "Formative Assessment: Questioning",
            "description": "Educator uses higher-order questioning to elicit evidence.",
            "image": f"{base}/badge.png",
            "criteria": {"narrative": "A lesson plan, a classroom video and a reflection."},
            "issuer": f"{base}/issuer",
        },
    )
    urls = {}
    for name, extra in {
        "good": {},
        "revoked": {"revoked": True, "revocationReason": "Issued in error"},
        "bad-missing-badge": {"badge": None},
    }.items():
        urls[name] = server.put_json(f"/assertions/{name}", assertion(base, name, **extra))
    urls["gone"] = server.put_json(
        "/assertions/gone",
        {
            "@context": CONTEXT,
            "id": f"{base}/assertions/gone",
            "type": "Assertion",
            "revoked": True,
            "revocationReason": "Issued in error",
        },
        status=410,
    )
    return urls


def assertion(base: str, name: str, **extra: Any) -> dict[str, Any]:
    """A hosted assertion for ``EMAIL`` (hashed and salted); ``None`` in ``extra`` removes."""
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "Assertion",
        "id": f"{base}/assertions/{name}",
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": SALT,
            "identity": hashed_email(EMAIL),
        },
        "badge": f"{base}/badgeclass",
        "verification": {"type": "HostedBadge"},
        "issuedOn": "2024-05-01T12:00:00Z",
    }
    document.update(extra)
    return {k: v for k, v in document.items() if v is not None}
