"""The JSON type of every claim the tool reads, checked before any is used.

pylti1p3 and PyJWT read a launch's claims as they come: a payload that is a JSON array fails on
its first ``.get`` (a 500, before the signature is checked), a ``context`` string after every
check, and PyJWT casts an ``exp`` of ``"4102444800"`` to a number. So the header and the payload
are checked here as soon as they are decoded, before any lookup (the login record, the
registration, the platform's keys): the payload is an object, and each claim the tool reads,
when present, has the type its standard gives it (RFC 7519 §4.1, OpenID Connect Core §2 and
§5.1, LTI Core §5.3-5.4, AGS §3.1, NRPS §3.6.1, Deep Linking §4.4.1). Whether a claim must be
present is left to the check that needs it (the nonce to A9, roles to A16, ...); unknown claims
are ignored (LTI-CHECKLIST A18), and so are the parts of known ones the tool does not read.

A text the tool only shows (a title, a name) may be ``null``, which platforms send for "none".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.lti.errors import LaunchError
from app.lti.launch import AGS_CLAIM, CLAIM, DL_CLAIM, NRPS_CLAIM

MAX_ID_LENGTH = 255
"""``sub`` (OpenID Connect Core §2), ``context.id`` and ``resource_link.id`` (LTI Core §5.4.1,
§5.3.5) are at most 255 characters, which is also what the tool's columns hold."""

HINT = (
    "This is a fault in the launch the LMS sent, not in anything you did: send the request id "
    "below to your LMS administrator."
)


@dataclass(frozen=True)
class Kind:
    """A JSON type, in words a person reads on the refusal page."""

    words: str
    accepts: Callable[[Any], bool]
    if_empty: str = ""
    """Said as well when the value sent is empty (``""`` or ``null``)."""


@dataclass(frozen=True)
class Obj:
    """A JSON object with the members the tool reads; ``required`` ones must be there."""

    members: Mapping[str, Kind | Obj] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    called: str = ""
    """What the object stands for (``resource link``), for a missing required member."""


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH


STRING = Kind("a string", lambda value: isinstance(value, str))
TEXT = Kind("a string", lambda value: value is None or isinstance(value, str))
NUMBER = Kind("a number (seconds since 1970)", _is_number)
STRINGS = Kind("a list of strings", _is_strings)
BOOLEAN = Kind("true or false", lambda value: isinstance(value, bool))
AUDIENCE = Kind(
    "a string or a list of strings", lambda value: isinstance(value, str) or _is_strings(value)
)
ID = Kind(f"a string of 1 to {MAX_ID_LENGTH} characters", _is_id)
SUB = Kind(
    f"a string of 1 to {MAX_ID_LENGTH} characters",
    _is_id,
    if_empty="An LMS leaves “sub” out for an anonymous launch; it never sends it empty.",
)

HEADER = Obj({"alg": STRING, "kid": STRING})
PAYLOAD = Obj(
    {
        "iss": STRING,
        "aud": AUDIENCE,
        "azp": STRING,
        "sub": SUB,
        "nonce": STRING,
        "exp": NUMBER,
        "iat": NUMBER,
        "nbf": NUMBER,
        "name": TEXT,
        "given_name": TEXT,
        "family_name": TEXT,
        "email": TEXT,
        CLAIM + "message_type": STRING,
        CLAIM + "version": STRING,
        CLAIM + "deployment_id": STRING,
        CLAIM + "target_link_uri": STRING,
        CLAIM + "roles": STRINGS,
        CLAIM + "context": Obj(
            {"id": ID, "title": TEXT, "label": TEXT}, required=("id",), called="course"
        ),
        CLAIM + "resource_link": Obj(
            {"id": ID, "title": TEXT, "description": TEXT},
            required=("id",),
            called="resource link",
        ),
        # Custom values are whatever the platform substitutes (Moodle and Canvas send numbers
        # too); the pages that read one check it.
        CLAIM + "custom": Obj(),
        CLAIM + "launch_presentation": Obj({"return_url": TEXT, "locale": TEXT}),
        CLAIM + "tool_platform": Obj({"name": TEXT}),
        # for_user.user_id: a string, or a number from Moodle (read as either in to_launch).
        CLAIM + "for_user": Obj(),
        AGS_CLAIM: Obj({"scope": STRINGS, "lineitems": STRING, "lineitem": STRING}),
        NRPS_CLAIM: Obj({"context_memberships_url": STRING}),
        DL_CLAIM: Obj(
            {
                "deep_link_return_url": STRING,
                "accept_types": STRINGS,
                "accept_presentation_document_targets": STRINGS,
                "accept_multiple": BOOLEAN,
                "auto_create": BOOLEAN,
                "data": STRING,
                "title": TEXT,
                "text": TEXT,
            }
        ),
    }
)


def check(header: Any, payload: Any) -> None:
    """Refuse a launch whose header or payload is not an object, or one of whose claims does
    not have its type (``LaunchError``, 400, naming the claim)."""
    for part, value in (("header", header), ("content", payload)):
        if not isinstance(value, dict):
            raise LaunchError(
                f"The launch token's {part} is {_sent(value)}; an id_token's {part} is always "
                "a JSON object.",
                hint=HINT,
                code="malformed_id_token",
            )
    _check(HEADER, header, "header.")
    _check(PAYLOAD, payload, "")


def _check(spec: Obj, value: Mapping[str, Any], path: str) -> None:
    for name in spec.required:
        if name not in value:
            raise LaunchError(
                f"The launch names a {spec.called} without its “{path}{name}”.",
                hint=HINT,
                code="claim_missing",
            )
    for name, kind in spec.members.items():
        if name not in value:
            continue
        item, where = value[name], path + _short(name)
        if isinstance(kind, Obj):
            if not isinstance(item, dict):
                raise _wrong_type(where, "an object", item)
            _check(kind, item, where + ".")
        elif not kind.accepts(item):
            raise _wrong_type(where, kind.words, item, kind.if_empty if item in ("", None) else "")


def _short(name: str) -> str:
    """A claim's name as people say it: ``context`` for LTI's
    ``https://purl.imsglobal.org/spec/lti/claim/context``."""
    return name.rstrip("/").rsplit("/", 1)[-1]


def _wrong_type(where: str, words: str, item: Any, note: str = "") -> LaunchError:
    return LaunchError(
        f"The launch token's “{where}” must be {words}, but the LMS sent {_sent(item)}."
        + (f" {note}" if note else ""),
        hint=HINT,
        code="claim_wrong_type",
    )


def _sent(value: Any) -> str:
    """What a JSON value is, in words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "Infinity or NaN, which is no number"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        return f"a string of {len(value)} characters" if len(value) > MAX_ID_LENGTH else "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
