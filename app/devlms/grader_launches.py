"""Launches from the gradebook: a grader opens the tool at one learner's work, as each LMS does.

- Moodle 4.x (moodle/moodle ``mod/lti/grade.php``, ``view.php``, ``launch.php``, ``locallib.php``):
  the grader report links an LTI activity's cell to ``/mod/lti/grade.php?id=<cmid>&userid=<id>``,
  which redirects to ``view.php?id=<cmid>&action=gradeReport&user=<id>``. ``view.php`` asks for
  ``gradereport/grader:view`` when that user is someone else, and frames ``launch.php`` with the
  same ``action`` and ``user``, which initiates an ``LtiSubmissionReviewRequest``; ``launch.php``
  itself checks no more than that the person may view the activity (its LTI 1.3 branch initiates
  the login before any capability check). The message carries the activity's resource link and
  ``https://purl.imsglobal.org/spec/lti/claim/for_user`` with ``user_id`` = that user's Moodle id,
  which is their ``sub`` (``lti_build_request``'s ``for_user_id``; ``lti_get_jwt_claim_mapping``).
  Its target is the line item's submission review URL when the tool's Deep Linking gave one
  (``lineItem.submissionReview``, Moodle 4.1+), else the activity's own.
- Canvas (instructure/canvas-lms ``ui/features/speed_grader``, ``app/controllers/lti/ims/
  scores_controller.rb``): Canvas has no LtiSubmissionReviewRequest. SpeedGrader launches the tool
  for a learner only when the tool's score recorded a ``basic_lti_launch`` submission with a URL
  (``submission_data``; ``external_tool_url`` in SpeedGrader): it frames
  ``/courses/<id>/external_tools/retrieve?display=borderless&assignment_id=<id>&url=<that URL>``,
  an ordinary LtiResourceLinkRequest of the assignment's link by the grader, whose target is that
  URL when it is on the tool's domain. Nothing in it names the learner: the tool's URL must. The
  retrieve page is open to anyone in the course, so a learner opens their own submission's URL
  the same way (from its details page), and may type another's.
  (``https://www.instructure.com/lti_student_id`` is another placement's claim, the student
  context card's, and carries the learner's Canvas user id, not their ``sub``:
  ``ExternalToolsController#generate_lti_launch_params``, ``JwtMessage``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devlms.gradebook import Submission, column_links, score_rules
from app.devlms.models import DevCourse, DevLineItem, DevLink, DevScoreLog, DevTool, DevUser
from app.devlms.placements import CANVAS_FLAVOURS

SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"
GRADE_REPORT = "gradeReport"
"""Moodle's ``action`` for a launch from the gradebook."""
FOR_USER = "https://purl.imsglobal.org/spec/lti/claim/for_user"
MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"
MOODLE_NO_PERMISSION = (
    "Sorry, but you do not currently have permissions to do that (View grader report)."
)
CANVAS_NO_SUBMISSION = "This student does not have a submission for this assignment"
CANVAS_NO_LAUNCH = (
    "This submission has no tool content to launch: the tool's score did not record a "
    "basic_lti_launch submission with a URL, so Canvas shows its own submission preview."
)


def submission_review_request(link: DevLink, for_user_id: int | None) -> dict[str, Any]:
    """The launch Moodle prepares for ``launch.php?action=gradeReport&user=<for_user_id>``."""
    return {"link": link.id, "message_type": SUBMISSION_REVIEW, "for_user": for_user_id}


def as_submission_review(
    session: Session, claims: dict[str, Any], for_user_id: Any
) -> dict[str, Any]:
    """Make resource link ``claims`` Moodle's LtiSubmissionReviewRequest for the user whose id the
    launch page was given: ``for_user.user_id`` is their ``sub`` (Moodle sends whatever id it was
    given, and no ``for_user`` without one)."""
    claims[MESSAGE_TYPE] = SUBMISSION_REVIEW
    if for_user_id:
        person = session.get(DevUser, for_user_id) if isinstance(for_user_id, int) else None
        claims[FOR_USER] = {"user_id": person.sub if person else str(for_user_id)}
    return claims


@dataclass(frozen=True)
class SpeedGrader:
    """What SpeedGrader shows for one learner in one column."""

    course: DevCourse
    column: DevLineItem
    tool: DevTool
    learner: DevUser
    link: DevLink | None
    submission: Submission | None

    @property
    def launch_url(self) -> str | None:
        return self.submission.launch_url if self.submission else None

    @property
    def message(self) -> str | None:
        """What SpeedGrader says instead of launching the tool (``None``: it launches)."""
        if self.submission is None:
            return CANVAS_NO_SUBMISSION
        if self.launch_url is None or self.link is None:
            return CANVAS_NO_LAUNCH
        return None


def speed_grader(
    session: Session, course: DevCourse, column_id: int | None, learner_id: int | None
) -> SpeedGrader | None:
    """Return SpeedGrader's view of ``learner_id``'s submission to column ``column_id`` of
    ``course`` (``None``: no such column or person, or a tool that does not behave like
    Canvas)."""
    column = session.get(DevLineItem, column_id) if column_id else None
    learner = session.get(DevUser, learner_id) if learner_id else None
    if column is None or column.course_id != course.id or learner is None:
        return None
    tool = session.get(DevTool, column.tool_id)
    if tool is None or tool.flavour not in CANVAS_FLAVOURS:
        return None
    return SpeedGrader(
        course=course,
        column=column,
        tool=tool,
        learner=learner,
        link=column_links(session, course.id, [column]).get(column.id),
        submission=latest_submission(session, column, tool, learner.id),
    )


def latest_submission(
    session: Session, column: DevLineItem, tool: DevTool, user_id: int
) -> Submission | None:
    """The latest submission the scores for ``user_id`` in ``column`` recorded (Canvas: every
    score is one unless it says otherwise; Moodle records none)."""
    rules = score_rules(tool)
    latest = None
    for body in session.scalars(
        select(DevScoreLog.body)
        .where(DevScoreLog.line_item_id == column.id, DevScoreLog.user_id == user_id)
        .order_by(DevScoreLog.id)
    ):
        latest = rules.submission(body) or latest
    return latest


def assignment_link(session: Session, course: DevCourse, assignment_id: Any) -> DevLink | None:
    """The link of a Canvas assignment (a column here) of ``course``, named by ``assignment_id``."""
    try:
        column = session.get(DevLineItem, int(assignment_id))
    except (TypeError, ValueError):
        return None
    if column is None or column.course_id != course.id:
        return None
    return column_links(session, course.id, [column]).get(column.id)


def retrieve_target(tool: DevTool, link: DevLink, url: str | None) -> str:
    """The target of a retrieve launch of ``link`` asked for ``url``: the URL when it is on the
    tool's domain (Canvas launches nothing else there), else the link's own."""
    own = link.url or tool.target_link_uri
    if url and urlsplit(url).netloc and urlsplit(url).netloc == urlsplit(own).netloc:
        return url
    return own
