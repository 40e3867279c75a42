"""Assignment and Grade Services and Names and Role Provisioning, platform side.

AGS 2.0 (line items, scores, results) with Moodle's strictness (``mod/lti/service/
gradebookservices``): required score fields, ``scoreMaximum`` with ``scoreGiven``, a timestamp
not newer than the stored one refused with 409 (compared in whole seconds; Canvas: 400, only an
earlier one, to the millisecond), a user who is not a
learner refused with 400 "Incorrect score received", and anything but ``FullyGraded`` leaving no
grade. A teacher may set a cell's grade by hand (``override_grade``), and Moodle keeps it against
every later score, which still answers 204 (``lib/grade/grade_item.php`` ``update_raw_grade``).
A Canvas-flavoured tool meets Canvas where it differs (``CanvasScoreRules``): 422 with Canvas's
error body for a user who is not a student, a score kept with ``PendingManual``, the
``https://canvas.instructure.com/lti/submission`` extension with ``prioritize_non_tool_grade``
and ``preserve_score``, results that report the tool's last score, ``{"resultUrl": ...}`` in
the answer, and line items created for an assignment's link only. NRPS 2.0 membership with
``limit`` paging and ``Link: rel="next"``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import utcnow
from app.devlms.models import (
    DevCourse,
    DevEnrolment,
    DevGrade,
    DevLineItem,
    DevLink,
    DevScoreLog,
    DevTool,
    DevUser,
)
from app.devlms.placements import CANVAS_FLAVOURS
from app.devlms.platform import PlatformError, line_item_url

# Moodle's pattern (gradebookservices/classes/local/resources/scores.php): ISO 8601 with an
# optional fraction and a zone.
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
ACTIVITY = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_page: int | None


def _paginate(total: int, page: int, limit: int) -> int | None:
    return page + 1 if page * limit < total else None


def _page_args(args: dict[str, str], default_limit: int = 50) -> tuple[int, int]:
    try:
        limit = int(args.get("limit", default_limit))
        page = int(args.get("page", 1))
    except ValueError as exc:
        raise PlatformError(
            400, "invalid_request", "limit and page must be whole numbers."
        ) from exc
    if limit < 1 or page < 1:
        raise PlatformError(400, "invalid_request", "limit and page must be at least 1.")
    return min(limit, MAX_LIMIT), page


# --- line items ----------


def line_item_json(base_url: str, item: DevLineItem, tool: DevTool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": line_item_url(base_url, item.course_id, item.id, tool),
        "label": item.label,
        "scoreMaximum": item.score_maximum,
    }
    for key, value in (
        ("resourceId", item.resource_id),
        ("resourceLinkId", item.resource_link_id),
        ("tag", item.tag),
        ("startDateTime", item.start_date_time),
        ("endDateTime", item.end_date_time),
    ):
        if value is not None:
            body[key] = value
    return body


def list_line_items(session: Session, course_id: int, tool: DevTool, args: dict[str, str]) -> Page:
    limit, page = _page_args(args)
    query = select(DevLineItem).where(
        DevLineItem.course_id == course_id, DevLineItem.tool_id == tool.id
    )
    for param, column in (
        ("resource_link_id", DevLineItem.resource_link_id),
        ("resource_id", DevLineItem.resource_id),
        ("tag", DevLineItem.tag),
    ):
        if args.get(param):
            query = query.where(column == args[param])
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(DevLineItem.id).offset((page - 1) * limit).limit(limit)
    ).all()
    return Page(list(items), _paginate(total, page, limit))


def _line_item_fields(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise PlatformError(400, "invalid_request", "The body must be a JSON object.")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise PlatformError(400, "invalid_request", "label is required.")
    maximum = body.get("scoreMaximum")
    if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
        raise PlatformError(400, "invalid_request", "scoreMaximum must be a number greater than 0.")
    return {
        "label": label.strip()[:255],
        "score_maximum": float(maximum),
        "resource_id": body.get("resourceId"),
        "resource_link_id": body.get("resourceLinkId"),
        "tag": body.get("tag"),
        "start_date_time": body.get("startDateTime"),
        "end_date_time": body.get("endDateTime"),
    }


def create_line_item(session: Session, course_id: int, tool: DevTool, body: Any) -> DevLineItem:
    # Canvas checks the link before it reads the rest of the body (before_action).
    link_id = body.get("resourceLinkId") if isinstance(body, dict) else None
    score_rules(tool).check_new_line_item(session, course_id, tool, link_id)
    item = DevLineItem(course_id=course_id, tool_id=tool.id, **_line_item_fields(body))
    session.add(item)
    session.commit()
    return item


def update_line_item(session: Session, item: DevLineItem, body: Any) -> DevLineItem:
    for key, value in _line_item_fields(body).items():
        setattr(item, key, value)
    session.commit()
    return item


def delete_line_item(session: Session, item: DevLineItem) -> None:
    session.delete(item)
    session.commit()


# --- what each LMS does with a score ----------
# The development LMS is Moodle-strict by default; a Canvas-flavoured tool meets Canvas's
# answers where the two differ (instructure/canvas-lms app/controllers/lti/ims/scores_controller.rb
# and app/controllers/lti/ims/concerns/gradebook_services.rb, lti_services.rb).

SUBMISSION = "https://canvas.instructure.com/lti/submission"


# scores_controller.rb SCORE_SUBMISSION_TYPES and DEFAULT_SUBMISSION_TYPE; submit_homework keeps
# ``submission_data`` as the submission's URL for the two URL types.
SUBMISSION_TYPES = frozenset(
    {
        "none",
        "basic_lti_launch",
        "online_text_entry",
        "online_url",
        "external_tool",
        "online_upload",
    }
)
DEFAULT_SUBMISSION_TYPE = "external_tool"
URL_SUBMISSION_TYPES = frozenset({"basic_lti_launch", "online_url"})
LTI_LAUNCH_SUBMISSION = "basic_lti_launch"


@dataclass(frozen=True)
class Shown:
    """What a gradebook cell shows: the grade, its points, the comment, and since when a
    teacher's grade (``None``: the tool's)."""

    score_given: float | None
    score_maximum: float | None
    comment: str | None
    overridden_at: datetime | None = None


@dataclass(frozen=True)
class Submission:
    """A submission (attempt) Canvas records with a score."""

    submitted_at: str | None
    """The extension's ``submitted_at``; ``None``: when the score arrived."""
    prioritize_non_tool_grade: bool
    """A teacher's own grade, if any, is kept over the tool's."""
    submission_type: str = DEFAULT_SUBMISSION_TYPE
    """The extension's ``submission_type`` when Canvas knows it, else ``external_tool``."""
    url: str | None = None
    """The extension's ``submission_data`` for a URL type: SpeedGrader launches the tool at the
    URL of a ``basic_lti_launch`` submission (``external_tool_url``)."""

    @property
    def launch_url(self) -> str | None:
        """The URL SpeedGrader launches the tool at for this submission, if any."""
        return self.url if self.submission_type == LTI_LAUNCH_SUBMISSION else None


class ScoreRules:
    """Moodle's rules (``mod/lti/service/gradebookservices``), the default."""

    records_submissions = False
    """Whether a score may record a submission (``submission``)."""

    def newer_than(self, timestamp: datetime) -> datetime:
        """The stored timestamp must be before this for a score sent at ``timestamp`` to be
        taken: Moodle compares whole seconds, so a score must be in a later second."""
        return timestamp.replace(microsecond=0)

    def stale(
        self, item: DevLineItem, user_sub: str, timestamp: str, last: datetime | None
    ) -> PlatformError:
        """The refusal of a score whose timestamp is not newer than the stored one."""
        return PlatformError(
            409,
            "conflict",
            f"Refusing score with an earlier timestamp for item {item.id} and user {user_sub}",
        )

    def not_gradable(self) -> PlatformError:
        """The refusal of a score for someone who is not a learner in the course."""
        # Moodle's exact, unhelpful answer (tools must recognise it as "not gradable").
        return PlatformError(400, "invalid_request", "Incorrect score received")

    def keeps_score(self, grading_progress: str) -> bool:
        """Whether a score sent with ``grading_progress`` becomes the grade (Moodle: only
        FullyGraded; anything else clears the grade)."""
        return grading_progress == "FullyGraded"

    def check_extensions(self, body: dict[str, Any]) -> None:
        """Refuse malformed platform extensions (Moodle ignores what it does not know)."""

    def submission(self, body: dict[str, Any]) -> Submission | None:
        """The submission an accepted score ``body`` recorded (Moodle records none)."""
        return None

    def shown(
        self, body: dict[str, Any], cell: _Cell, tool_score: float | None, item: DevLineItem
    ) -> Shown:
        """What the cell shows after an accepted score ``body`` whose own grade (scaled to the
        column, ``None`` for none) is ``tool_score``."""
        if cell.overridden_at is not None:
            # update_raw_grade: under an override neither the final grade nor the feedback
            # changes; the tool's score is kept as the raw grade (the log here).
            return Shown(cell.score_given, cell.score_maximum, cell.comment, cell.overridden_at)
        return Shown(
            tool_score, item.score_maximum if tool_score is not None else None, body.get("comment")
        )

    results_follow_scores = False
    """Whether AGS results report the tool's last score rather than the grade shown (Canvas's
    result record); Moodle's report the grade shown, a teacher's override included."""

    may_remove_override = True
    """Whether a teacher's grade can be switched back to the tool's (Moodle's "Overridden"
    box); in Canvas a teacher clears the grade or enters another."""

    def check_new_line_item(
        self, session: Session, course_id: int, tool: DevTool, resource_link_id: Any
    ) -> None:
        """Refuse a new line item the LMS would not create (Moodle: none refused here)."""

    def answer(self, result_url: str) -> dict[str, Any] | None:
        """The body of a score's success answer; ``None``: 204 No Content."""
        return None


class CanvasScoreRules(ScoreRules):
    """Canvas's rules, where they differ from Moodle's."""

    records_submissions = True

    def _error(self, status: int, kind: str, message: str) -> PlatformError:
        # Canvas's render_error (lti_services.rb): {"errors": {"type": ..., "message": ...}}.
        return PlatformError(
            status, kind, message, body={"errors": {"type": kind, "message": message}}
        )

    def newer_than(self, timestamp: datetime) -> datetime:
        # scores_controller.rb verify_valid_timestamp: only a timestamp strictly before the
        # result's last update is refused, to the millisecond (the same one is taken).
        return timestamp + timedelta(microseconds=1)

    def stale(
        self, item: DevLineItem, user_sub: str, timestamp: str, last: datetime | None
    ) -> PlatformError:
        updated = last.isoformat(timespec="milliseconds") if last else "a later score"
        return self._error(
            400,
            "bad_request",
            f"Provided timestamp of {timestamp} before last updated timestamp of {updated}",
        )

    def not_gradable(self) -> PlatformError:
        # gradebook_services.rb verify_user_in_context.
        return self._error(
            422, "unprocessable_entity", "User not found in course or is not a student"
        )

    def keeps_score(self, grading_progress: str) -> bool:
        # Lti::Result::ACCEPT_GIVEN_SCORE_TYPES: Canvas applies scoreGiven with PendingManual
        # too (the submission then needs a grader's attention); NotReady, Failed and Pending
        # clear it.
        return grading_progress in {"FullyGraded", "PendingManual"}

    def check_extensions(self, body: dict[str, Any]) -> None:
        extension = body.get(SUBMISSION)
        if extension is None:
            return
        if not isinstance(extension, dict):
            raise PlatformError(400, "invalid_request", f"{SUBMISSION} must be a JSON object.")
        submitted_at = extension.get("submitted_at")
        if submitted_at in (None, ""):
            return
        # scores_controller.rb verify_valid_submitted_at, with its one-minute future buffer.
        when = _timestamp_or_none(submitted_at)
        if when is None:
            raise self._error(
                400,
                "bad_request",
                f"Provided submitted_at timestamp of {submitted_at} not a valid timestamp",
            )
        if when > utcnow() + timedelta(minutes=1):
            raise self._error(
                400,
                "bad_request",
                f"Provided submitted_at timestamp of {submitted_at} in the future",
            )

    def submission(self, body: dict[str, Any]) -> Submission | None:
        # Every score is a new submission unless new_submission is false or submission_type
        # is "none" (scores_controller.rb new_submission?), extension or not.
        extension = body.get(SUBMISSION)
        extension = extension if isinstance(extension, dict) else {}
        new = _canvas_boolean(extension.get("new_submission"))
        if new is False or extension.get("submission_type") == "none":
            return None
        kind = extension.get("submission_type")
        kind = kind if kind in SUBMISSION_TYPES else DEFAULT_SUBMISSION_TYPE
        data = extension.get("submission_data")
        return Submission(
            submitted_at=extension.get("submitted_at") or None,
            prioritize_non_tool_grade=bool(
                _canvas_boolean(extension.get("prioritize_non_tool_grade"))
            ),
            submission_type=kind,
            url=data if kind in URL_SUBMISSION_TYPES and isinstance(data, str) and data else None,
        )

    def shown(
        self, body: dict[str, Any], cell: _Cell, tool_score: float | None, item: DevLineItem
    ) -> Shown:
        # scores_controller.rb score_submission: preserve_score never touches the submission's
        # score; a score without scoreGiven (or with another gradingProgress) clears it;
        # prioritize_non_tool_grade leaves a submission that has any score (submission_has_score?,
        # the tool's own earlier one included). A comment is added whatever happens to the grade.
        extension = _extension(body)
        comment = body.get("comment")
        if _canvas_boolean(extension.get("preserve_score")):
            return Shown(cell.score_given, cell.score_maximum, comment, cell.overridden_at)
        if tool_score is None:
            return Shown(None, None, comment)
        if (
            _canvas_boolean(extension.get("prioritize_non_tool_grade"))
            and cell.score_given is not None
        ):
            return Shown(cell.score_given, cell.score_maximum, comment, cell.overridden_at)
        return Shown(tool_score, item.score_maximum, comment)

    # The result record (Lti::Result) takes every score's scoreGiven (update_or_create_result),
    # whatever score_submission did with the submission, and a grade a teacher enters after it
    # (Submission#update_line_item_result): results may not show the grade the gradebook shows.
    results_follow_scores = True
    may_remove_override = False

    def check_new_line_item(
        self, session: Session, course_id: int, tool: DevTool, resource_link_id: Any
    ) -> None:
        # line_items_controller.rb: prepare_line_item_for_ags! finds the assignment whose
        # lti_context_id is resourceLinkId (404 when none: a module item, a course menu link),
        # then 422 when it is another tool's; verify_valid_resource_link answers 412 (no body)
        # when the link has no active line item or its assignment is gone. Here an assignment
        # is a link placed by assignment selection, or one Deep Linking gave a line item (Canvas
        # turns those into assignments, flag lti_deep_linking_line_items).
        if resource_link_id in (None, ""):
            return  # Canvas makes a placeholder assignment for the new column
        link = session.scalars(
            select(DevLink).where(
                DevLink.resource_link_id == str(resource_link_id), DevLink.course_id == course_id
            )
        ).first()
        if link is None or (link.placement != "assignment" and link.line_item_id is None):
            raise PlatformError(
                404,
                "not_found",
                "The specified resource does not exist.",
                body={"errors": [{"message": "The specified resource does not exist."}]},
            )
        if link.tool_id != tool.id:
            raise self._error(
                422,
                "unprocessable_entity",
                "Resource link id points to Tool not associated with this Context",
            )
        if link.line_item_id is None:
            raise PlatformError(412, "precondition_failed", "", body={})

    def answer(self, result_url: str) -> dict[str, Any] | None:
        return {"resultUrl": result_url}


MOODLE_SCORES = ScoreRules()
CANVAS_SCORES = CanvasScoreRules()


def score_rules(tool: DevTool) -> ScoreRules:
    """Return how the LMS treats ``tool``'s scores, by the tool's flavour."""
    return CANVAS_SCORES if tool.flavour in CANVAS_FLAVOURS else MOODLE_SCORES


def _extension(body: dict[str, Any]) -> dict[str, Any]:
    extension = body.get(SUBMISSION)
    return extension if isinstance(extension, dict) else {}


def _canvas_boolean(value: Any) -> bool | None:
    # As Rails' ActiveRecord::Type::Boolean casts a parameter.
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "f", "false", "off"}
    return bool(value)


# --- scores and results ----------


def _timestamp_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str) or not TIMESTAMP.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _check_score_fields(body: Any) -> None:
    if not isinstance(body, dict):
        raise PlatformError(400, "invalid_request", "The body must be a JSON object.")
    for required in ("userId", "timestamp", "activityProgress", "gradingProgress"):
        if body.get(required) in (None, ""):
            raise PlatformError(400, "invalid_request", f"{required} is required.")
    if _timestamp_or_none(body["timestamp"]) is None:
        raise PlatformError(
            400,
            "invalid_request",
            "timestamp must be ISO 8601 with a time zone, e.g. 2026-11-23T10:00:00.123Z.",
        )
    if body["activityProgress"] not in ACTIVITY:
        raise PlatformError(
            400, "invalid_request", f"activityProgress must be one of {sorted(ACTIVITY)}."
        )
    if body["gradingProgress"] not in GRADING:
        raise PlatformError(
            400, "invalid_request", f"gradingProgress must be one of {sorted(GRADING)}."
        )
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is not None:
        if maximum is None:
            raise PlatformError(400, "invalid_request", "scoreMaximum is required with scoreGiven.")
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (given, maximum)
        ):
            raise PlatformError(
                400, "invalid_request", "scoreGiven and scoreMaximum must be numbers."
            )
        if maximum <= 0 or given < 0:
            raise PlatformError(
                400,
                "invalid_request",
                "scoreMaximum must be greater than 0 and scoreGiven not negative.",
            )


@dataclass(frozen=True)
class _Cell:
    """The learner a score is for, and what their gradebook cell holds (if any)."""

    user_id: int
    user_sub: str
    grade_id: int | None
    timestamp: datetime | None
    score_given: float | None = None
    score_maximum: float | None = None
    comment: str | None = None
    overridden_at: datetime | None = None


# The score endpoint's statements, built once with bound parameters: a request neither
# rebuilds them nor recomputes their cache keys (bench/ drives it at hundreds a second).
_LEARNER_CELL = (
    select(
        DevUser.id,
        DevUser.sub,
        DevGrade.id,
        DevGrade.timestamp,
        DevGrade.score_given,
        DevGrade.score_maximum,
        DevGrade.comment,
        DevGrade.overridden_at,
    )
    .join(
        DevEnrolment,
        (DevEnrolment.user_id == DevUser.id)
        & (DevEnrolment.course_id == bindparam("course_id"))
        & (DevEnrolment.role == "Learner"),
    )
    .outerjoin(
        DevGrade,
        (DevGrade.user_id == DevUser.id) & (DevGrade.line_item_id == bindparam("item_id")),
    )
    .where(DevUser.sub == bindparam("sub"))
)
_CELL_FIELDS = (
    "score_given",
    "score_maximum",
    "comment",
    "activity_progress",
    "grading_progress",
    "timestamp",
    "updated_at",
    "overridden_at",
)
# A cell is inserted unless one exists by then (both databases have ON CONFLICT), and updated
# only if its score is still from an earlier second (Moodle's rule, checked by the database so
# that of two scores arriving at once for one cell the second is refused as stale).
_INSERT_CELL = {
    name: dialect_insert(DevGrade)
    .on_conflict_do_nothing(index_elements=["line_item_id", "user_id"])
    .returning(DevGrade.id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_UPDATE_CELL = (
    update(DevGrade)
    .where(DevGrade.id == bindparam("grade_id"), DevGrade.timestamp < bindparam("second"))
    .values({name: bindparam(f"new_{name}") for name in _CELL_FIELDS})
    .returning(DevGrade.id)
    .execution_options(synchronize_session=False)
)
_INSERT_LOG = insert(DevScoreLog)


def _learner_cell(session: Session, item: DevLineItem, user_sub: Any) -> _Cell | None:
    """Return the learner whose ``sub`` is ``user_sub`` in the item's course with their cell in
    the item's column (one query), or ``None`` when no such learner is in the course."""
    row = (
        session.connection()
        .execute(
            _LEARNER_CELL, {"course_id": item.course_id, "item_id": item.id, "sub": str(user_sub)}
        )
        .first()
    )
    return _Cell(*row) if row is not None else None


def post_score(session: Session, item: DevLineItem, tool: DevTool, body: Any) -> int:
    """Apply one score POST by the rules of ``tool``'s flavour; return the id of the gradebook
    cell it leaves. Only an accepted score is logged (``DevScoreLog``)."""
    rules = score_rules(tool)
    _check_score_fields(body)
    rules.check_extensions(body)
    cell = _learner_cell(session, item, body["userId"])
    if cell is None:
        raise rules.not_gradable()
    timestamp = _timestamp_or_none(body["timestamp"])
    assert timestamp is not None  # checked above
    second = rules.newer_than(timestamp)
    if cell.timestamp is not None and cell.timestamp >= second:
        raise rules.stale(item, cell.user_sub, str(body["timestamp"]), cell.timestamp)
    scaled = _scaled(body, item) if rules.keeps_score(body["gradingProgress"]) else None
    shown = rules.shown(body, cell, scaled, item)
    now = utcnow()
    # Core statements on the session's connection: the ORM's bulk-insert and result
    # machinery would cost more CPU than the database itself here.
    connection = session.connection()
    values = {
        "score_given": shown.score_given,
        "score_maximum": shown.score_maximum,
        "comment": shown.comment,
        "activity_progress": body["activityProgress"],
        "grading_progress": body["gradingProgress"],
        "timestamp": timestamp,
        "updated_at": now,
        "overridden_at": shown.overridden_at,
    }
    if cell.grade_id is None:
        insert_cell = _INSERT_CELL[session.get_bind().dialect.name]
        grade_id = connection.scalar(
            insert_cell, {"line_item_id": item.id, "user_id": cell.user_id, **values}
        )
    else:
        grade_id = connection.scalar(
            _UPDATE_CELL,
            {"grade_id": cell.grade_id, "second": second}
            | {f"new_{name}": value for name, value in values.items()},
        )
    if grade_id is None:  # a score for this cell was stored meanwhile
        raise rules.stale(item, cell.user_sub, str(body["timestamp"]), cell.timestamp)
    connection.execute(
        _INSERT_LOG,
        {"line_item_id": item.id, "user_id": cell.user_id, "body": body, "received_at": now},
    )
    session.commit()
    return grade_id


def _scaled(body: dict[str, Any], item: DevLineItem) -> float | None:
    """A score's ``scoreGiven`` in the column's points (``None`` without one)."""
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given is None or not maximum:
        return None
    return float(given) * item.score_maximum / float(maximum)


def result_url(base_url: str, item: DevLineItem, tool: DevTool, grade_id: int) -> str:
    """Return the URL of the result (AGS ``Result.id``) of the gradebook cell ``grade_id``."""
    item_url = line_item_url(base_url, item.course_id, item.id, tool)
    return f"{item_url.split('?')[0]}/results/{grade_id}"


def list_results(
    session: Session, base_url: str, item: DevLineItem, tool: DevTool, args: dict[str, str]
) -> tuple[list[dict[str, Any]], int | None]:
    limit, page = _page_args(args)
    query = (
        select(DevGrade, DevUser)
        .join(DevUser, DevUser.id == DevGrade.user_id)
        .where(DevGrade.line_item_id == item.id)
    )
    if args.get("user_id"):
        query = query.where(DevUser.sub == args["user_id"])
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(DevGrade.id).offset((page - 1) * limit).limit(limit)
    ).all()
    item_url = line_item_url(base_url, item.course_id, item.id, tool)
    posted: dict[int, tuple[dict[str, Any], datetime]] = {}
    if score_rules(tool).results_follow_scores:
        posted = _last_scores(session, item, [user.id for _, user in rows])
    results = []
    for grade, user in rows:
        result: dict[str, Any] = {
            "id": result_url(base_url, item, tool, grade.id),
            "scoreOf": item_url,
            "userId": user.sub,
        }
        score, maximum = grade.score_given, grade.score_maximum
        last = posted.get(user.id)
        if last is not None and (grade.overridden_at is None or grade.overridden_at < last[1]):
            score = _scaled(last[0], item)
            maximum = item.score_maximum if score is not None else None
        if score is not None:
            result["resultScore"] = score
            result["resultMaximum"] = maximum
        if grade.comment:
            result["comment"] = grade.comment
        results.append(result)
    return results, _paginate(total, page, limit)


def _last_scores(
    session: Session, item: DevLineItem, user_ids: list[int]
) -> dict[int, tuple[dict[str, Any], datetime]]:
    """The last accepted score of each of these learners in the column, with when it came."""
    latest = (
        select(func.max(DevScoreLog.id))
        .where(DevScoreLog.line_item_id == item.id, DevScoreLog.user_id.in_(user_ids))
        .group_by(DevScoreLog.user_id)
    )
    rows = session.execute(
        select(DevScoreLog.user_id, DevScoreLog.body, DevScoreLog.received_at).where(
            DevScoreLog.id.in_(latest)
        )
    )
    return {user_id: (body, received_at) for user_id, body, received_at in rows}


# --- a teacher's own grade ----------

NO_SCORE_YET = datetime(1970, 1, 1, tzinfo=UTC)
"""The score timestamp of a cell a teacher graded before the tool sent anything: every score
the tool sends is newer."""


def _teachers_cell(
    session: Session, course: DevCourse, line_item_id: Any, user_id: Any
) -> tuple[DevLineItem, DevUser, DevGrade | None]:
    item = session.get(DevLineItem, _whole(line_item_id))
    if item is None or item.course_id != course.id:
        raise PlatformError(404, "not_found", "That column is not in this course.", course=course)
    learner = session.scalars(
        select(DevUser)
        .join(DevEnrolment, DevEnrolment.user_id == DevUser.id)
        .where(
            DevUser.id == _whole(user_id),
            DevEnrolment.course_id == course.id,
            DevEnrolment.role == "Learner",
        )
    ).first()
    if learner is None:
        raise PlatformError(
            404, "not_found", "That person is not a learner in this course.", course=course
        )
    grade = session.scalars(
        select(DevGrade).where(DevGrade.line_item_id == item.id, DevGrade.user_id == learner.id)
    ).first()
    return item, learner, grade


def _whole(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def override_grade(
    session: Session, course: DevCourse, line_item_id: Any, user_id: Any, grade: str
) -> DevGrade:
    """Set a learner's grade in a column by hand, as a teacher does in Moodle's grader report
    (the cell is then overridden) or in Canvas's gradebook; an empty ``grade`` leaves the cell
    without a grade. Later scores from the tool meet it by the LMS's rules (``ScoreRules``)."""
    item, learner, cell = _teachers_cell(session, course, line_item_id, user_id)
    points: float | None = None
    if grade.strip():
        try:
            points = float(grade)
        except ValueError:
            points = math.nan
        if not math.isfinite(points) or not 0 <= points <= item.score_maximum:
            raise PlatformError(
                400,
                "invalid_request",
                f"A grade in {item.label} is a number between 0 and {item.score_maximum:g}, or "
                "empty for no grade.",
                course=course,
            )
    now = utcnow()
    if cell is None:
        cell = DevGrade(
            line_item_id=item.id,
            user_id=learner.id,
            activity_progress="Initialized",
            grading_progress="NotReady",
            timestamp=NO_SCORE_YET,
        )
        session.add(cell)
    cell.score_given = points
    cell.score_maximum = item.score_maximum if points is not None else None
    cell.overridden_at = now
    cell.updated_at = now
    session.commit()
    return cell


def remove_override(
    session: Session, course: DevCourse, line_item_id: Any, user_id: Any
) -> DevGrade:
    """Give a cell back to the tool (Moodle's grader report: untick "Overridden"): it shows the
    tool's last score again, which Moodle kept as the raw grade."""
    item, learner, cell = _teachers_cell(session, course, line_item_id, user_id)
    rules = score_rules(session.get_one(DevTool, item.tool_id))
    if not rules.may_remove_override:
        raise PlatformError(
            400,
            "invalid_request",
            "Canvas has no override to remove: clear the grade, or enter another one.",
            course=course,
        )
    if cell is None or cell.overridden_at is None:
        raise PlatformError(400, "invalid_request", "This grade is not overridden.", course=course)
    last = _last_scores(session, item, [learner.id]).get(learner.id)
    raw = None
    if last is not None and rules.keeps_score(last[0].get("gradingProgress", "")):
        raw = _scaled(last[0], item)
    cell.score_given = raw
    cell.score_maximum = item.score_maximum if raw is not None else None
    cell.overridden_at = None
    cell.updated_at = utcnow()
    session.commit()
    return cell


# --- the gradebook page ----------


@dataclass(frozen=True)
class Cell:
    """One learner's cell in one column, as the gradebook page shows it."""

    grade: DevGrade | None
    posts: int = 0
    """Score POSTs accepted for it (a tool's duplicates show here)."""
    submissions: int = 0
    """Submissions (attempts) recorded with those scores: Canvas only."""
    last_submitted_at: datetime | None = None
    """The latest submission's ``submitted_at`` or, without one, when its score arrived."""


@dataclass(frozen=True)
class Gradebook:
    columns: list[DevLineItem]
    learners: list[DevUser]
    cells: dict[tuple[int, int], Cell]
    """By (line item id, user id); a missing key is an empty cell."""
    submission_columns: frozenset[int]
    """The columns whose tool's LMS records submissions with scores (Canvas)."""
    links: dict[int, DevLink] = field(default_factory=dict)
    """The course link each column grades, by column id (a column a tool made by itself, for no
    link, has none)."""
    tools: dict[int, DevTool] = field(default_factory=dict)
    """Each column's tool, by column id."""

    def cell(self, column: DevLineItem, learner: DevUser) -> Cell:
        return self.cells.get((column.id, learner.id)) or Cell(grade=None)


def course_gradebook(session: Session, course: DevCourse) -> Gradebook:
    """Return the course's gradebook: its columns, its learners and every cell, with the count
    of score POSTs each cell received and, for Canvas-flavoured tools, its submissions."""
    columns = list(
        session.scalars(
            select(DevLineItem).where(DevLineItem.course_id == course.id).order_by(DevLineItem.id)
        )
    )
    learners = list(
        session.scalars(
            select(DevUser)
            .join(DevEnrolment, DevEnrolment.user_id == DevUser.id)
            .where(DevEnrolment.course_id == course.id, DevEnrolment.role == "Learner")
            .order_by(DevEnrolment.id)
        )
    )
    column_ids = [c.id for c in columns]
    grades = session.scalars(select(DevGrade).where(DevGrade.line_item_id.in_(column_ids)))
    cells = {(g.line_item_id, g.user_id): Cell(grade=g) for g in grades}
    counts = session.execute(
        select(DevScoreLog.line_item_id, DevScoreLog.user_id, func.count())
        .where(DevScoreLog.line_item_id.in_(column_ids))
        .group_by(DevScoreLog.line_item_id, DevScoreLog.user_id)
    )
    for item_id, user_id, posts in counts:
        key = (item_id, user_id)
        cells[key] = replace(cells.get(key) or Cell(grade=None), posts=posts)
    tools = {
        tool.id: tool
        for tool in session.scalars(
            select(DevTool).where(DevTool.id.in_({c.tool_id for c in columns}))
        )
    }
    rules = {c.id: score_rules(tools[c.tool_id]) for c in columns}
    links = column_links(session, course.id, columns)
    submitting = frozenset(item_id for item_id, r in rules.items() if r.records_submissions)
    if submitting:
        logs = session.execute(
            select(
                DevScoreLog.line_item_id,
                DevScoreLog.user_id,
                DevScoreLog.body,
                DevScoreLog.received_at,
            )
            .where(DevScoreLog.line_item_id.in_(submitting))
            .order_by(DevScoreLog.id)
        )
        for item_id, user_id, body, received_at in logs:
            submission = rules[item_id].submission(body)
            if submission is None:
                continue
            key = (item_id, user_id)
            cell = cells.get(key) or Cell(grade=None)
            cells[key] = replace(
                cell,
                submissions=cell.submissions + 1,
                last_submitted_at=_timestamp_or_none(submission.submitted_at) or received_at,
            )
    by_column = {c.id: tools[c.tool_id] for c in columns}
    return Gradebook(columns, learners, cells, submitting, links, by_column)


def column_links(
    session: Session, course_id: int, columns: list[DevLineItem]
) -> dict[int, DevLink]:
    """The link each column grades, by column id: the link the column was made with (Deep
    Linking's line item), else the link whose resource link id the column names (AGS)."""
    links = list(session.scalars(select(DevLink).where(DevLink.course_id == course_id)))
    by_item = {link.line_item_id: link for link in links if link.line_item_id}
    by_resource = {link.resource_link_id: link for link in links}
    found: dict[int, DevLink] = {}
    for column in columns:
        link = by_item.get(column.id) or by_resource.get(column.resource_link_id or "")
        if link is not None and link.tool_id == column.tool_id:
            found[column.id] = link
    return found


# --- NRPS ----------


def memberships(
    session: Session, base_url: str, course: DevCourse, args: dict[str, str]
) -> tuple[dict[str, Any], int | None]:
    from app.devlms.platform import ROLE_URIS

    limit, page = _page_args(args, default_limit=20)
    query = (
        select(DevEnrolment, DevUser)
        .join(DevUser, DevUser.id == DevEnrolment.user_id)
        .where(DevEnrolment.course_id == course.id)
    )
    if args.get("role"):
        wanted = args["role"]
        query = query.where(
            DevEnrolment.role.in_(
                [name for name, uris in ROLE_URIS.items() if wanted in uris or wanted == name]
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(DevEnrolment.id).offset((page - 1) * limit).limit(limit)
    ).all()
    members = [
        {
            "status": "Active",
            "name": user.name,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
            "user_id": user.sub,
            "lis_person_sourcedid": f"devlms:{user.id}",
            "roles": ROLE_URIS[enrolment.role],
        }
        for enrolment, user in rows
    ]
    body = {
        "id": f"{base_url}/api/lti/courses/{course.id}/memberships",
        "context": {"id": course.context_id, "label": course.label, "title": course.title},
        "members": members,
    }
    return body, _paginate(total, page, limit)
