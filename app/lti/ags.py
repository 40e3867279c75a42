"""Assignment and Grade Services 2.0, tool side: scores, line items, results.

https://www.imsglobal.org/spec/lti-ags/v2p0/ (LTI-CHECKLIST G and J). ``AgsClient`` is used
from a worker's thread pool: it keeps no state but a connection pool and the shared
``TokenCache``. ``send_score`` never raises for what the network or the LMS does; it answers
with a ``SendOutcome`` saying whether the score arrived, should be tried again, can never
arrive, or was refused as older than what the LMS holds, with a reason an instructor can read.
The other calls are interactive or part of a command, and raise ``PlatformServiceError``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import certifi
import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from app.lti.platform_services import PlatformServiceError, Throttled
from app.lti.platforms import (
    PLUGINS,
    SCOPE_LINEITEM,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    Platform,
    retry_after_seconds,
)
from app.lti.tokens import RegistrationUnavailable, TokenCache

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
RESULT_CONTAINER_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"

SCORE_SCOPES = (SCOPE_SCORE,)
LINE_ITEM_SCOPES = (SCOPE_LINEITEM,)
"""Full line item access covers reading too (AGS §3.1), so finding a column and creating one
when none exists share one token."""
RESULT_SCOPES = (SCOPE_RESULT_READONLY,)

POOL_SIZE = 64
"""Connections kept per LMS host: a worker sends from up to 32 threads at once."""
MAX_PAGES = 1000
"""A bound on ``rel="next"`` chains, against an LMS whose next page never ends."""
MESSAGE_LIMIT = 300
GENERIC = PLUGINS["generic"]


# --- URLs ----------


def _append_to_path(url: str, segment: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + segment))


def scores_url(line_item_url: str) -> str:
    """Return the line item's scores endpoint: ``/scores`` appended to its path, before any
    query string (Moodle's line item URLs carry ``?type_id=``; AGS §3.4)."""
    return _append_to_path(line_item_url, "scores")


def results_url(line_item_url: str) -> str:
    """Return the line item's results endpoint (``/results`` before any query string)."""
    return _append_to_path(line_item_url, "results")


def with_query(url: str, params: Mapping[str, str | int | None]) -> str:
    """Return ``url`` with ``params`` (those not ``None``) added to the query it already has."""
    added = urlencode({k: str(v) for k, v in params.items() if v is not None})
    if not added:
        return url
    parts = urlsplit(url)
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"|[^;,\s]*))?)*)")
_LINK_PARAM = re.compile(r";\s*([^;,=\s]+)(?:\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;,\s]*))?")


def next_page_url(link_header: str | None, base_url: str) -> str | None:
    """Return the target of the ``rel="next"`` link in a ``Link`` header (RFC 8288), if any.

    Links may come in any order, several per header, with quoted or bare, space-separated
    relation types; a relative target is resolved against the page's own URL."""
    for match in _LINK.finditer(link_header or ""):
        target, params = match.group(1), match.group(2)
        for name, value in _LINK_PARAM.findall(params):
            if name.lower() != "rel":
                continue
            relations = value.strip('"').lower().split()
            if "next" in relations:
                return urljoin(base_url, target.strip())
            break  # only the first rel parameter counts (RFC 8288 §3.3)
    return None


# --- values ----------


class Answer(StrEnum):
    """What became of a score."""

    DELIVERED = "delivered"
    RETRY = "retry"
    """Not delivered for now (failing, unreachable): send it again later."""
    THROTTLED = "throttled"
    """The LMS asked the tool to slow down: send fewer at once, and this one again later, for
    as long as it takes (a throttled score is never given up)."""
    PERMANENT = "permanent"
    """The LMS will never take it as it is (person not gradable, column gone, not allowed)."""
    STALE = "stale"
    """The LMS holds a score with a newer timestamp (409)."""
    NO_COLUMN = "no_column"
    """The link can have no gradebook column in the LMS: there is nowhere to send a score."""


@dataclass(frozen=True)
class SendOutcome:
    """The answer to one score POST."""

    answer: Answer
    status: int | None
    """The LMS's HTTP status; ``None`` when there was no answer (or no token)."""
    reason: str
    """Plain words an instructor can act on, naming the LMS's own message; empty when
    delivered."""
    retry_after: float | None = None
    """Seconds the LMS asked to wait (``Retry-After``), when it did."""
    remaining: float | None = None
    """The rate limit quota the LMS says is left (Canvas's ``X-Rate-Limit-Remaining``)."""


@dataclass(frozen=True)
class ScoreSend:
    """A score for one person and line item (AGS §3.4)."""

    user_id: str
    timestamp: datetime
    """When the score was decided; must be later than anything sent for this person and line
    item before (Moodle compares whole seconds)."""
    activity_progress: str
    grading_progress: str
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)
    """Extra top-level members, such as Canvas's ``https://canvas.instructure.com/lti/
    submission``."""

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("ScoreSend.timestamp must be timezone-aware")
        if (self.score_given is None) != (self.score_maximum is None):
            raise ValueError("scoreGiven and scoreMaximum are sent together or not at all")

    def to_json(self) -> dict[str, Any]:
        """Return the score's JSON body."""
        body: dict[str, Any] = dict(self.extensions)
        body.update(
            {
                "userId": self.user_id,
                "timestamp": iso_timestamp(self.timestamp),
                "activityProgress": self.activity_progress,
                "gradingProgress": self.grading_progress,
            }
        )
        if self.score_given is not None and self.score_maximum is not None:
            body["scoreGiven"] = self.score_given
            body["scoreMaximum"] = self.score_maximum
        if self.comment:
            body["comment"] = self.comment
        return body


def iso_timestamp(moment: datetime) -> str:
    """Format as ISO 8601 UTC with milliseconds and ``Z`` (``2026-11-23T10:00:00.123Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class LineItemInfo:
    """A gradebook column as the LMS describes it (AGS §3.2)."""

    url: str
    """The line item's ``id``, which is its URL."""
    label: str
    score_maximum: float | None
    resource_id: str | None = None
    resource_link_id: str | None = None
    tag: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> LineItemInfo:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ValueError("a line item must be a JSON object with an id")
        maximum = body.get("scoreMaximum")
        return cls(
            url=body["id"],
            label=str(body.get("label") or ""),
            score_maximum=float(maximum) if isinstance(maximum, int | float) else None,
            resource_id=_optional_str(body.get("resourceId")),
            resource_link_id=_optional_str(body.get("resourceLinkId")),
            tag=_optional_str(body.get("tag")),
        )


@dataclass(frozen=True)
class ResultInfo:
    """What the LMS's gradebook holds for one person (AGS §3.3)."""

    user_id: str
    result_score: float | None
    result_maximum: float | None
    comment: str | None = None

    @classmethod
    def from_json(cls, body: Any) -> ResultInfo:
        if not isinstance(body, dict) or body.get("userId") in (None, ""):
            raise ValueError("a result must be a JSON object with a userId")
        score = _optional_float(body.get("resultScore"))
        maximum = _optional_float(body.get("resultMaximum"))
        if score is not None and maximum is None:
            maximum = 1.0  # "If absent, a value of 1 must be assumed" (AGS §3.3.2)
        return cls(
            user_id=str(body["userId"]),
            result_score=score,
            result_maximum=maximum,
            comment=_optional_str(body.get("comment")),
        )


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _optional_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


# --- reading an LMS's answer ----------


def _messages_in(value: Any) -> Iterator[str]:
    """Yield the human messages in an error body: Moodle's and OAuth's ``error_description``,
    Canvas's ``{"errors": [{"message": ...}]}`` or ``{"errors": {...}}``, a bare ``message``."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _messages_in(item)
    elif isinstance(value, dict):
        for key in ("error_description", "message", "detail"):
            if isinstance(value.get(key), str):
                yield value[key]
        errors = value.get("errors")
        if isinstance(errors, dict) and not {"message", "error_description"} & set(errors):
            # Canvas's validation errors: {"errors": {"field": [{"message": ...}]}}
            for item in errors.values():
                if not isinstance(item, str):
                    yield from _messages_in(item)
        elif errors is not None:
            yield from _messages_in(errors)
        if isinstance(value.get("error"), str) and not value.get("error_description"):
            yield value["error"]


@dataclass(frozen=True)
class Reply:
    """An LMS's answer, whichever HTTP client fetched it."""

    status_code: int
    reason: str
    headers: Mapping[str, str]
    """Case-insensitive."""
    body: bytes

    @classmethod
    def of(cls, response: requests.Response) -> Reply:
        return cls(response.status_code, response.reason or "", response.headers, response.content)

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not."""
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def lms_message(response: Reply) -> str:
    """Return what the LMS said about a refusal, in its own words (bounded, never HTML).

    Moodle puts its reason in the status line ("400 Incorrect score received") with an empty
    body (mod/lti/service/gradebookservices), so the reason phrase is used when it is not the
    standard one."""
    text = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if body is not None:
        text = "; ".join(dict.fromkeys(m.strip() for m in _messages_in(body) if m.strip()))
    if not text:
        raw = response.text.strip()
        if raw and not raw.startswith("<"):
            text = raw.splitlines()[0]
    if not text and response.reason:
        try:
            standard = HTTPStatus(response.status_code).phrase
        except ValueError:
            standard = ""
        if response.reason.strip().lower() != standard.lower():
            text = response.reason.strip()
    if len(text) > MESSAGE_LIMIT:
        text = text[: MESSAGE_LIMIT - 1] + "…"
    return text


def _status(response: Reply, message: str) -> str:
    return f"HTTP {response.status_code}: {message}" if message else f"HTTP {response.status_code}"


# Moodle's answer for a user who is not a learner of the course (or whose enrolment ended):
# mod/lti/service/gradebookservices/classes/local/resources/scores.php throws
# "Incorrect score received" with 400.
MOODLE_NOT_GRADABLE = "incorrect score received"
CANVAS_STALE = re.compile(r"timestamp .*before .*last updated", re.IGNORECASE)
NOT_GRADABLE = (
    "The LMS would not take a grade for this person: they are not enrolled as a student in "
    "this course (or their enrolment ended)."
)
# Canvas answers 422 for a user who is not a student of the course, a concluded enrolment or
# course, or attempts used up (lti/ims/scores_controller.rb); its message says which.
CANVAS_NOT_GRADABLE = (
    "The LMS would not take a grade for this person: they may not be a student in this course, "
    "their enrolment or the course may have ended, or they have no attempts left."
)
LINE_ITEM_GONE = (
    "The gradebook column no longer exists in the LMS (deleted, or the course has concluded)."
)
NOT_ALLOWED = (
    "The LMS does not let the tool send grades: the permission to send scores was not granted "
    "to the tool, or was withdrawn, in the LMS's tool settings."
)


def classify(response: Reply, platform: Platform = GENERIC) -> SendOutcome:
    """Turn the LMS's answer to a score POST into a ``SendOutcome`` (LTI-CHECKLIST G), reading
    its rate limit as the platform's plugin says."""
    limit = platform.rate_limit(response.status_code, response.headers, response.body)
    outcome = _classify(response, limit.throttled)
    return replace(outcome, remaining=limit.remaining) if limit.remaining is not None else outcome


def _classify(response: Reply, throttled: bool) -> SendOutcome:
    code = response.status_code
    if 200 <= code < 300:
        return SendOutcome(Answer.DELIVERED, code, "")
    message = lms_message(response)
    said = _status(response, message)
    if throttled:
        return SendOutcome(
            Answer.THROTTLED,
            code,
            f"The LMS asked the tool to slow down ({said}); the tool will send fewer scores at "
            "once and this one again shortly.",
            retry_after_seconds(response.headers.get("Retry-After")),
        )
    if code == 409:
        return SendOutcome(
            Answer.STALE, code, f"The LMS already holds a newer score for this person. ({said})"
        )
    if code == 408 or code >= 500:
        return SendOutcome(
            Answer.RETRY,
            code,
            f"The LMS is busy or failing (HTTP {code}); the tool will try again.",
            retry_after_seconds(response.headers.get("Retry-After")),
        )
    if code == 400 and CANVAS_STALE.search(message):
        # Canvas answers an older timestamp with 400 "Provided timestamp of … before last
        # updated timestamp of …" (lti/ims/scores_controller.rb), not 409.
        return SendOutcome(
            Answer.STALE, code, f"The LMS already holds a newer score for this person. ({said})"
        )
    if code == 400 and MOODLE_NOT_GRADABLE in f"{message} {response.reason}".lower():
        return SendOutcome(Answer.PERMANENT, code, f"{NOT_GRADABLE} ({said})")
    if code == 422:
        return SendOutcome(Answer.PERMANENT, code, f"{CANVAS_NOT_GRADABLE} ({said})")
    if code == 404:
        return SendOutcome(Answer.PERMANENT, code, f"{LINE_ITEM_GONE} ({said})")
    if code == 403:
        return SendOutcome(Answer.PERMANENT, code, f"{NOT_ALLOWED} ({said})")
    if code == 401:
        return SendOutcome(
            Answer.RETRY,
            code,
            f"The LMS refused the tool's access token twice in a row ({said}); the tool will "
            "try again.",
        )
    if 400 <= code < 500:
        return SendOutcome(
            Answer.PERMANENT,
            code,
            f"The LMS refused the score as invalid ({said}). This is a fault in the tool: "
            "tell its operator.",
        )
    return SendOutcome(
        Answer.RETRY,
        code,
        f"The LMS gave an unexpected answer ({said}); the tool will try again.",
    )


# --- the client ----------


def _session(http: requests.Session) -> requests.Session:
    """A session for AGS calls: the app's headers (Canvas requires a ``User-Agent``), a pool
    large enough for a worker's threads, and no cookies (a jar shared by threads is the one
    part of a Session that is not safe to share, and AGS needs none)."""
    session = requests.Session()
    session.headers.update(http.headers)
    adapter = HTTPAdapter(pool_connections=16, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


class _Unanswered(Exception):
    """No answer from the LMS: ``timeout`` tells a slow LMS from an unreachable one."""

    def __init__(self, name: str, *, timeout: bool) -> None:
        super().__init__(name)
        self.name = name
        self.timeout = timeout


class _DirectPoster:
    """POST through urllib3's connection pools, for the scores a worker sends by the hundred
    a second: requests costs about three times urllib3's CPU per call (it re-reads proxies,
    CA bundle and ``.netrc`` from the environment each time), and that CPU is what limits a
    worker. What requests would take from the environment is taken once per origin: the CA
    bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, else certifi's) and whether a proxy
    applies — when one does, the score goes through requests as every other call."""

    def __init__(self, headers: Mapping[str, str | bytes]) -> None:
        self._headers = {k: v if isinstance(v, str) else v.decode() for k, v in headers.items()}
        self._direct: dict[tuple[str, str], bool] = {}
        self._pools = urllib3.PoolManager(
            num_pools=16,
            maxsize=POOL_SIZE,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or certifi.where(),
        )

    def handles(self, url: str) -> bool:
        """Whether ``url`` is reached without a proxy (decided once per origin)."""
        origin = urlsplit(url)[:2]
        direct = self._direct.get(origin)
        if direct is None:
            direct = self._direct[origin] = not get_environ_proxies(url)
        return direct

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
        """POST ``body``; raise ``_Unanswered`` when no answer came."""
        try:
            raw = self._pools.request(
                "POST",
                url,
                body=body,
                headers={**self._headers, **headers},
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=False,
                redirect=False,
            )
        except NewConnectionError as exc:  # a subclass of the timeouts, but refused at once
            raise _Unanswered("ConnectionError", timeout=False) from exc
        except Urllib3Timeout as exc:
            raise _Unanswered(type(exc).__name__, timeout=True) from exc
        except SSLError as exc:
            raise _Unanswered("SSLError", timeout=False) from exc
        except Urllib3Error as exc:
            # Named as requests names it, as for every other call to an LMS.
            raise _Unanswered("ConnectionError", timeout=False) from exc
        return Reply(raw.status, raw.reason or "", raw.headers, raw.data)

    def close(self) -> None:
        self._pools.clear()


class AgsClient:
    """Scores, line items and results on an LMS, for any registration; thread-safe."""

    def __init__(self, tokens: TokenCache, http: requests.Session, timeout: float) -> None:
        self._tokens = tokens
        self._http = _session(http)
        self._direct = _DirectPoster(self._http.headers)
        self._timeout = timeout

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()
        self._direct.close()

    # --- scores ----------

    def send_score(
        self,
        registration_id: int,
        line_item_url: str,
        score: ScoreSend,
        platform: Platform = GENERIC,
    ) -> SendOutcome:
        """POST ``score`` to the line item's scores endpoint; never raise for what the network
        or the LMS does (``platform``: whose rate limit the answer is read by).

        A 401 means the token was revoked or expired early: the token is dropped and the POST
        sent once more with a new one."""
        url = scores_url(line_item_url)
        data = json.dumps(score.to_json()).encode()
        response: Reply | None = None
        for _attempt in range(2):
            try:
                token = self._tokens.token(registration_id, SCORE_SCOPES)
            except RegistrationUnavailable as exc:
                return SendOutcome(Answer.PERMANENT, None, exc.message)
            except Throttled as exc:
                return SendOutcome(Answer.THROTTLED, None, exc.message, retry_after=exc.retry_after)
            except PlatformServiceError as exc:
                return SendOutcome(
                    Answer.RETRY,
                    None,
                    f"The tool could not get access to the LMS: {exc.message} "
                    "The tool will try again.",
                )
            try:
                response = self._post(url, data, token)
            except _Unanswered as exc:
                if exc.timeout:
                    return SendOutcome(
                        Answer.RETRY,
                        None,
                        f"The LMS did not answer within {self._timeout:g} seconds; the tool "
                        "will try again.",
                    )
                return SendOutcome(
                    Answer.RETRY,
                    None,
                    f"The tool could not reach the LMS ({exc.name}); the tool will try again.",
                )
            if response.status_code != 401:
                break
            self._tokens.invalidate(registration_id, SCORE_SCOPES, token)
        assert response is not None
        outcome = classify(response, platform)
        if token in outcome.reason:  # an LMS echoing the request must not spread the token
            outcome = replace(outcome, reason=outcome.reason.replace(token, "[access token]"))
        if outcome.answer is not Answer.DELIVERED:
            log.info(
                "score not delivered",
                extra={
                    "registration_id": registration_id,
                    "url": url,
                    "answer": outcome.answer.value,
                    "status": outcome.status,
                },
            )
        return outcome

    def _post(self, url: str, data: bytes, token: str) -> Reply:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": SCORE_TYPE}
        if self._direct.handles(url):
            return self._direct.post(url, data, headers, self._timeout)
        try:
            response = self._http.post(
                url, data=data, headers=headers, timeout=self._timeout, allow_redirects=False
            )
        except requests.Timeout as exc:
            raise _Unanswered(type(exc).__name__, timeout=True) from exc
        except requests.RequestException as exc:
            raise _Unanswered(type(exc).__name__, timeout=False) from exc
        return Reply.of(response)

    # --- line items and results ----------

    def line_items(
        self,
        registration_id: int,
        lineitems_url: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        platform: Platform = GENERIC,
    ) -> list[LineItemInfo]:
        """Return the context's line items (all pages), filtered as the LMS allows (AGS §3.2.4).

        ``limit`` asks for pages of that many (the LMS may page anyway)."""
        url = with_query(
            lineitems_url,
            {
                "resource_link_id": resource_link_id,
                "resource_id": resource_id,
                "tag": tag,
                "limit": limit,
            },
        )
        return [
            self._parse(LineItemInfo.from_json, item, url, "line item")
            for item in self._pages(
                registration_id,
                LINE_ITEM_SCOPES,
                url,
                LINEITEM_CONTAINER_TYPE,
                "line items",
                platform,
            )
        ]

    def create_line_item(
        self,
        registration_id: int,
        lineitems_url: str,
        *,
        label: str,
        score_maximum: float,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        platform: Platform = GENERIC,
    ) -> LineItemInfo:
        """Create a gradebook column in the context (AGS §3.2.5)."""
        body: dict[str, Any] = {"label": label, "scoreMaximum": score_maximum}
        for key, value in (
            ("resourceLinkId", resource_link_id),
            ("resourceId", resource_id),
            ("tag", tag),
        ):
            if value is not None:
                body[key] = value
        response = self._request(
            registration_id,
            LINE_ITEM_SCOPES,
            "POST",
            lineitems_url,
            "the new gradebook column",
            headers={"Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE},
            data=json.dumps(body),
            platform=platform,
        )
        return self._parse(LineItemInfo.from_json, _json(response), lineitems_url, "line item")

    def results(
        self,
        registration_id: int,
        line_item_url: str,
        *,
        user_id: str | None = None,
        limit: int | None = None,
        platform: Platform = GENERIC,
    ) -> list[ResultInfo]:
        """Return what the LMS's gradebook holds for the line item (all pages; AGS §3.3)."""
        url = with_query(results_url(line_item_url), {"user_id": user_id, "limit": limit})
        return [
            self._parse(ResultInfo.from_json, item, url, "result")
            for item in self._pages(
                registration_id, RESULT_SCOPES, url, RESULT_CONTAINER_TYPE, "results", platform
            )
        ]

    # --- plumbing ----------

    def _pages(
        self,
        registration_id: int,
        scopes: Sequence[str],
        url: str,
        accept: str,
        what: str,
        platform: Platform,
    ) -> Iterator[Any]:
        """Yield the items of a JSON-array container, following ``rel="next"`` links."""
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None:
            if next_url in seen or len(seen) >= MAX_PAGES:
                raise PlatformServiceError(
                    f"The LMS's pages of {what} at {url} do not end (next page {next_url}).",
                    hint="This is a fault in the LMS; report it to its administrator.",
                )
            seen.add(next_url)
            response = self._request(
                registration_id,
                scopes,
                "GET",
                next_url,
                what,
                headers={"Accept": accept},
                platform=platform,
            )
            page = _json(response)
            if not isinstance(page, list):
                raise PlatformServiceError(
                    f"The LMS answered the request for {what} at {next_url} with something "
                    "other than a list.",
                    hint="Check that the URL is the LMS's AGS endpoint.",
                )
            yield from page
            next_url = next_page_url(response.headers.get("Link"), next_url)

    def _request(
        self,
        registration_id: int,
        scopes: Sequence[str],
        method: str,
        url: str,
        what: str,
        *,
        headers: Mapping[str, str],
        data: str | None = None,
        platform: Platform = GENERIC,
    ) -> requests.Response:
        """Send one service request with a cached token (a new one after a 401); raise
        ``PlatformServiceError`` unless the LMS answers 2xx (``Throttled`` when the LMS's rate
        limit refused it)."""
        response: requests.Response | None = None
        for _attempt in range(2):
            token = self._tokens.token(registration_id, scopes)
            try:
                response = self._http.request(
                    method,
                    url,
                    data=data,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                    timeout=self._timeout,
                )
            except requests.RequestException as exc:
                raise PlatformServiceError(
                    f"The tool could not reach the LMS for {what} at {url} ({type(exc).__name__}).",
                    hint="The LMS may be down or unreachable from the tool; try again later.",
                ) from exc
            if response.status_code != 401:
                break
            self._tokens.invalidate(registration_id, scopes, token)
        assert response is not None
        if not 200 <= response.status_code < 300:
            reply = Reply.of(response)
            said = _status(reply, lms_message(reply)).replace(token, "[access token]")
            if platform.rate_limit(reply.status_code, reply.headers, reply.body).throttled:
                raise Throttled(
                    f"The LMS asked the tool to slow down when it asked for {what} at {url} "
                    f"({said}).",
                    hint="The LMS limits how many requests the tool may make at once; try "
                    "again in a moment.",
                    retry_after=retry_after_seconds(reply.headers.get("Retry-After")),
                )
            error = PlatformServiceError(
                f"The LMS refused or failed the request for {what} at {url} ({said}).",
                hint="Check that the tool was granted the LMS's grade services.",
            )
            error.lms_status, error.lms_answer = response.status_code, said
            raise error
        return response

    @staticmethod
    def _parse(parse: Callable[[Any], _T], item: Any, url: str, what: str) -> _T:
        try:
            return parse(item)
        except (ValueError, TypeError) as exc:
            raise PlatformServiceError(
                f"The LMS sent a {what} the tool cannot read from {url}: {exc}.",
                hint="This is a fault in the LMS; report it to its administrator.",
            ) from exc


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise PlatformServiceError(
            f"The LMS did not answer {response.url} with JSON (HTTP {response.status_code}).",
            hint="Check that the URL is the LMS's AGS endpoint.",
        ) from exc
