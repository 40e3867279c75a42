"""The development LMS's own tables (prefixed ``devlms_``): its keys, the tools registered in
it, courses, people, enrolments, links, line items, scores and issued tokens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, utcnow


class DevPlatformKey(Base):
    """The platform's RS256 key pair (it signs id_tokens)."""

    __tablename__ = "devlms_platform_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    """A development platform's key: kept in clear, the LMS is never run in production."""
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevTool(Base):
    """An LTI 1.3 tool registered in this platform (as an admin would in Moodle or Canvas)."""

    __tablename__ = "devlms_tool"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    flavour: Mapped[str] = mapped_column(String(16), default="moodle")
    """``moodle`` or ``canvas``: which platform's habits to imitate."""
    status: Mapped[str] = mapped_column(String(16), default="active")
    """``active``, or ``pending`` until an admin activates it (Moodle, after registration)."""
    course_visible: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    """Moodle's *Tool configuration usage* (``lti_types.coursevisible``): 0 do not show, 1
    preconfigured tool only, 2 also in the activity chooser (``course_tools``). A tool set up
    by hand here is in the chooser; Moodle's Dynamic Registration stores 1."""
    initiate_login_uri: Mapped[str] = mapped_column(String(1024))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    target_link_uri: Mapped[str] = mapped_column(String(1024))
    jwks_uri: Mapped[str] = mapped_column(String(1024))
    deep_link_uri: Mapped[str | None] = mapped_column(String(1024))
    course_navigation_uri: Mapped[str | None] = mapped_column(String(1024))
    """Where the course menu's item for the tool launches (Canvas's course_navigation
    placement); ``None``: the tool has no course menu item."""
    scopes: Mapped[list[str]] = mapped_column(JSON)
    """Service scopes the tool may be granted tokens for."""
    registration_document: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The client registration the tool posted (Dynamic Registration), as received."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevUser(Base):
    __tablename__ = "devlms_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    sub: Mapped[str] = mapped_column(String(64), unique=True)
    """The LTI ``sub``: opaque and stable."""
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class DevCourse(Base):
    __tablename__ = "devlms_course"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(50))
    context_id: Mapped[str] = mapped_column(String(64), unique=True)
    copied_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("devlms_course.id", ondelete="SET NULL")
    )
    """The course this one was copied from (links and columns copied, new ids)."""

    enrolments: Mapped[list[DevEnrolment]] = relationship(back_populates="course")


class DevEnrolment(Base):
    __tablename__ = "devlms_enrolment"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id", name="uq_devlms_enrolment_course_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("devlms_course.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("devlms_user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    """``Instructor``, ``TeachingAssistant`` or ``Learner``."""

    course: Mapped[DevCourse] = relationship(back_populates="enrolments")
    user: Mapped[DevUser] = relationship()


class DevCourseToolVisibility(Base):
    """A course's own "Show in activity chooser" choice for a site tool (Moodle's
    ``lti_coursevisible``): 2 shown, 1 not, whatever the tool's usage says."""

    __tablename__ = "devlms_course_tool_visibility"
    __table_args__ = (
        UniqueConstraint(
            "course_id", "tool_id", name="uq_devlms_course_tool_visibility_course_tool"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("devlms_course.id", ondelete="CASCADE"))
    tool_id: Mapped[int] = mapped_column(ForeignKey("devlms_tool.id", ondelete="CASCADE"))
    course_visible: Mapped[int] = mapped_column(Integer)


class DevLineItem(Base):
    """A gradebook column (AGS line item)."""

    __tablename__ = "devlms_line_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("devlms_course.id", ondelete="CASCADE"))
    tool_id: Mapped[int] = mapped_column(ForeignKey("devlms_tool.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(255))
    score_maximum: Mapped[float] = mapped_column(Float)
    resource_id: Mapped[str | None] = mapped_column(String(255))
    resource_link_id: Mapped[str | None] = mapped_column(String(64))
    tag: Mapped[str | None] = mapped_column(String(255))
    start_date_time: Mapped[str | None] = mapped_column(String(40))
    end_date_time: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevLink(Base):
    """A tool link placed in a course (a resource link), optionally graded by a line item."""

    __tablename__ = "devlms_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("devlms_course.id", ondelete="CASCADE"))
    tool_id: Mapped[int] = mapped_column(ForeignKey("devlms_tool.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1024))
    """Launch URL from Deep Linking; the tool's default target link URI when empty."""
    placement: Mapped[str] = mapped_column(String(32), default="link", server_default="link")
    """``link`` (an activity or module item), ``assignment`` (Canvas assignment selection) or
    ``course_navigation`` (the course menu's item)."""
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    line_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("devlms_line_item.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevLaunch(Base):
    """A launch the LMS prepared at login initiation, handed out once at authorization.

    Moodle keeps it in the person's session under the ``launchid`` of its message hint and
    deletes it the first time ``mod/lti/auth.php`` reads it; Canvas caches the launch under the
    verifier in its hint and ``fetch_and_delete_launch``es it at authorize. Either way a message
    hint is single use: a second authorization request with it is refused."""

    __tablename__ = "devlms_launch"

    id: Mapped[int] = mapped_column(primary_key=True)
    launch_id: Mapped[str] = mapped_column(String(64), unique=True)
    """What the message hint names: Moodle's ``launchid``, Canvas's verifier."""
    tool_id: Mapped[int] = mapped_column(ForeignKey("devlms_tool.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("devlms_user.id", ondelete="CASCADE"))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What to launch: ``{"link": id}``, ``{"course_navigation": course id}`` or
    ``{"deep_link": course id, "placement": code}``."""
    target_link_uri: Mapped[str] = mapped_column(String(1024))
    """The target the login initiation named; the id_token carries the same."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevGrade(Base):
    """The gradebook cell: what the last accepted score left for one learner and line item."""

    __tablename__ = "devlms_grade"
    __table_args__ = (
        UniqueConstraint("line_item_id", "user_id", name="uq_devlms_grade_line_item_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("devlms_line_item.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("devlms_user.id", ondelete="CASCADE"))
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    activity_progress: Mapped[str] = mapped_column(String(32))
    grading_progress: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[datetime] = mapped_column()
    """The score's own timestamp, as the tool sent it."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    overridden_at: Mapped[datetime | None] = mapped_column()
    """When a teacher last set the grade by hand (Moodle: overridden in the grader report;
    Canvas: entered in the gradebook), ``None`` while the grade is the tool's. In Moodle it
    stands against every later score until a teacher removes the override; in Canvas a score
    without ``prioritize_non_tool_grade`` or ``preserve_score`` replaces it."""


class DevScoreLog(Base):
    """Every score POST that was accepted, in order (what the tool actually sent)."""

    __tablename__ = "devlms_score_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_item_id: Mapped[int] = mapped_column(ForeignKey("devlms_line_item.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("devlms_user.id", ondelete="CASCADE"))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DevAccessToken(Base):
    """A bearer token issued by the token endpoint (stored as a SHA-256 hash)."""

    __tablename__ = "devlms_access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("devlms_tool.id", ondelete="CASCADE"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column()


class DevUsedJti(Base):
    """A client-assertion ``jti`` already used: a second use is refused until it expires."""

    __tablename__ = "devlms_used_jti"
    __table_args__ = (UniqueConstraint("tool_id", "jti", name="uq_devlms_used_jti_tool_jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[int] = mapped_column(ForeignKey("devlms_tool.id", ondelete="CASCADE"))
    jti: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column()


class DevFaults(Base):
    """Faults the development LMS injects into its service endpoints (AGS, NRPS, token), so
    that a tool's retries, token renewal and error reporting can be exercised, and the rate
    limit it holds Canvas-flavoured tools to: one row, changed on the LMS's admin page or by
    tests and benchmarks. Rates are fractions of requests (0 to 1)."""

    __tablename__ = "devlms_faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    """Added to every service request before it is answered."""
    unauthorized_rate: Mapped[float] = mapped_column(Float, default=0.0)
    """401 invalid_token, as if the access token had been revoked or expired early."""
    throttle_rate: Mapped[float] = mapped_column(Float, default=0.0)
    """429 with ``Retry-After: retry_after_seconds``."""
    retry_after_seconds: Mapped[int] = mapped_column(Integer, default=1)
    server_error_rate: Mapped[float] = mapped_column(Float, default=0.0)
    """500, 502 or 503 (the kinds a proxy in front of an LMS gives)."""
    canvas_hwm: Mapped[float] = mapped_column(Float, default=600.0, server_default="600")
    """Canvas-flavoured tools: the rate limit's high-water mark (``app/devlms/throttle.py``)."""
    canvas_up_front_cost: Mapped[float] = mapped_column(Float, default=50.0, server_default="50")
    """Canvas-flavoured tools: what each request in flight holds of the bucket."""
    canvas_outflow: Mapped[float] = mapped_column(Float, default=10.0, server_default="10")
    """Canvas-flavoured tools: what the bucket leaks per second."""
    canvas_request_cost: Mapped[float] = mapped_column(Float, default=0.01, server_default="0.01")
    """Canvas-flavoured tools: what each served request leaves in the bucket."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
