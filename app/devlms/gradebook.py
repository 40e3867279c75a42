"""Assignment and Grade Services and Names and Role Provisioning, platform side.

AGS 2.0 (line items, scores, results) with Moodle's strictness (``mod/lti/service/
gradebookservices``): required score fields, ``scoreMaximum`` with ``scoreGiven``, a timestamp
not newer than the stored one refused with 409 (compared in whole seconds), a user who is not a
learner refused with 400 "Incorrect score received", and anything but ``FullyGraded`` leaving no
grade. NRPS 2.0 membership with ``limit`` paging and ``Link: rel="next"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.devlms.models import (
    DevCourse,
    DevEnrolment,
    DevGrade,
    DevLineItem,
    DevScoreLog,
    DevTool,
    DevUser,
)
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


def get_line_item(session: Session, course_id: int, item_id: int, tool: DevTool) -> DevLineItem:
    item = session.get(DevLineItem, item_id)
    if item is None or item.course_id != course_id or item.tool_id != tool.id:
        raise PlatformError(404, "not_found", f"No line item {item_id} in course {course_id}.")
    return item


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


# --- scores and results ----------


def _learner(session: Session, course_id: int, user_sub: Any) -> DevUser:
    user = session.scalars(select(DevUser).where(DevUser.sub == str(user_sub))).first()
    enrolment = None
    if user is not None:
        enrolment = session.scalars(
            select(DevEnrolment).where(
                DevEnrolment.course_id == course_id, DevEnrolment.user_id == user.id
            )
        ).first()
    if user is None or enrolment is None or enrolment.role != "Learner":
        # Moodle's exact, unhelpful answer (tools must recognise it as "not gradable").
        raise PlatformError(400, "invalid_request", "Incorrect score received")
    return user


def _parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def post_score(session: Session, item: DevLineItem, body: Any) -> DevGrade:
    """Apply one score POST with Moodle's rules; return the gradebook cell it leaves."""
    if not isinstance(body, dict):
        raise PlatformError(400, "invalid_request", "The body must be a JSON object.")
    for required in ("userId", "timestamp", "activityProgress", "gradingProgress"):
        if body.get(required) in (None, ""):
            raise PlatformError(400, "invalid_request", f"{required} is required.")
    if not isinstance(body["timestamp"], str) or not TIMESTAMP.match(body["timestamp"]):
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
    user = _learner(session, item.course_id, body["userId"])
    timestamp = _parse_timestamp(body["timestamp"])
    grade = session.scalars(
        select(DevGrade).where(DevGrade.line_item_id == item.id, DevGrade.user_id == user.id)
    ).first()
    if grade is not None and int(timestamp.timestamp()) <= int(grade.timestamp.timestamp()):
        raise PlatformError(
            409,
            "conflict",
            f"Refusing score with an earlier timestamp for item {item.id} and user {user.sub}",
        )
    if grade is None:
        grade = DevGrade(line_item_id=item.id, user_id=user.id)
        session.add(grade)
    fully_graded = body["gradingProgress"] == "FullyGraded"
    # Moodle: only FullyGraded sets a grade; anything else clears it.
    scaled: float | None = None
    if fully_graded and given is not None and maximum is not None:
        scaled = float(given) * item.score_maximum / float(maximum)
    grade.score_given = scaled
    grade.score_maximum = item.score_maximum if grade.score_given is not None else None
    grade.comment = body.get("comment")
    grade.activity_progress = body["activityProgress"]
    grade.grading_progress = body["gradingProgress"]
    grade.timestamp = timestamp
    grade.updated_at = utcnow()
    session.add(DevScoreLog(line_item_id=item.id, user_id=user.id, body=body))
    session.commit()
    return grade


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
    results = []
    for grade, user in rows:
        result: dict[str, Any] = {
            "id": f"{item_url.split('?')[0]}/results/{grade.id}",
            "scoreOf": item_url,
            "userId": user.sub,
        }
        if grade.score_given is not None:
            result["resultScore"] = grade.score_given
            result["resultMaximum"] = grade.score_maximum
        if grade.comment:
            result["comment"] = grade.comment
        results.append(result)
    return results, _paginate(total, page, limit)


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
