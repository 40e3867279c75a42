"""The development LMS's pages: pick who you are, open a course, launch the tool in an iframe,
add activities by Deep Linking, read the gradebook, and (site administrators) register tools by
Dynamic Registration and set the faults its services inject."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.db import db_session
from app.devlms import (
    course_tools,
    courses,
    faults,
    gradebook,
    grader_launches,
    launches,
    placements,
    platform,
    registration,
)
from app.devlms.api import clients, current_user, request_throttle, settings
from app.devlms.models import (
    DevCourse,
    DevEnrolment,
    DevLink,
    DevTool,
    DevUser,
)
from app.devlms.platform import PlatformError

# How the LMS treats a tool: Moodle (no platform storage), Canvas (platform storage answered by
# the course page through its sibling frame on the sso host), or Canvas's mobile app (no
# platform storage offered, no answer to requestFullWindowLaunch).
FLAVOURS = {"moodle": "Moodle", "canvas": "Canvas", "canvas_mobile": "Canvas mobile app"}
CANVAS_FLAVOURS = placements.CANVAS_FLAVOURS
STORAGE_FRAME = placements.STORAGE_FRAME
TEACHING_ROLES = placements.TEACHING_ROLES
CONTENT_ROLES = placements.CONTENT_ROLES

bp = Blueprint(
    "devlms",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/devlms-static",
)


def _course_for_user(course_id: int) -> tuple[DevCourse, DevUser, str]:
    user = current_user()
    if user is None:
        abort(Response(render_template("devlms/choose_user_first.html"), status=403))
    s = db_session()
    course = s.get(DevCourse, course_id)
    if course is None:
        abort(404)
    role = platform.course_role(s, course.id, user.id)
    if role is None and registration.is_site_admin(user):
        role = placements.ADMINISTRATOR  # a site administrator may open any course
    if role is None:
        abort(
            Response(
                render_template("devlms/not_enrolled.html", course=course, user=user), status=403
            )
        )
    return course, user, role


@bp.get("/")
def home() -> str:
    s = db_session()
    users = s.scalars(select(DevUser).order_by(DevUser.id)).all()
    user = current_user()
    enrolments: Sequence[DevEnrolment] = ()
    if user is not None:
        enrolments = s.scalars(select(DevEnrolment).where(DevEnrolment.user_id == user.id)).all()
    tools = s.scalars(select(DevTool).order_by(DevTool.id)).all()
    return render_template(
        "devlms/home.html",
        users=users,
        user=user,
        enrolments=enrolments,
        tools=tools,
        flavours=FLAVOURS,
    )


@bp.post("/act-as")
def act_as() -> Response:
    user = db_session().get(DevUser, request.form.get("user_id", type=int))
    if user is None:
        abort(400)
    session["user_id"] = user.id
    return redirect(request.form.get("next") or url_for("devlms.home"))


@bp.get("/courses/<int:course_id>")
def course(course_id: int) -> str:
    """The course page: its links, the tool menu items, the instructor's "add" buttons, and the
    tool in an iframe when a link, a menu item or an add screen is open."""
    course, user, role = _course_for_user(course_id)
    s = db_session()
    links = courses.course_links(s, course.id)
    tools = course_tools.addable_tools(s, course)
    current = None
    if request.args.get("open"):
        current = next((link for link in links if str(link.id) == request.args["open"]), None)
    menu_tools = courses.course_menu_tools(s, role)
    navigating = next((t for t in menu_tools if t.id == request.args.get("nav", type=int)), None)
    adding = next((t for t in tools if t.id == request.args.get("add", type=int)), None)
    placement = None
    if adding is not None and role in CONTENT_ROLES:
        placement = placements.find_placement(adding, request.args.get("placement"))
    framed = s.get(DevTool, current.tool_id) if current else navigating or adding
    copied_from = s.get(DevCourse, course.copied_from_id) if course.copied_from_id else None
    return render_template(
        "devlms/course.html",
        course=course,
        user=user,
        role=role,
        links=links,
        current=current,
        tools=tools,
        menu_tools=menu_tools,
        navigating=navigating,
        adding=adding if placement else None,
        placement=placement,
        entry_points=placements.deep_linking_placements,
        menu_label=placements.course_navigation_label,
        may_copy=courses.may_copy(role),
        may_manage_tools=course_tools.may_manage(role),
        copied_from=copied_from,
        copied=request.args.get("copied") == "1",
        platform_storage=framed is not None and framed.flavour == "canvas",
        storage_frame_url=f"{settings().devlms_url}/{placements.STORAGE_FRAME}?"
        + urlencode({"parent_origin": request.host_url.rstrip("/")}),
        # Canvas's web pages answer requestFullWindowLaunch; its mobile apps answer no
        # postMessage (doc/api/lti_window_post_message.md).
        full_window_launch=framed is not None and framed.flavour == "canvas",
        moodle_frame=framed is not None and framed.flavour == "moodle",
    )


@bp.get("/launch/link/<int:link_id>")
def launch_link(link_id: int) -> str:
    """Start a resource link launch: the third-party initiated login, POSTed into the iframe."""
    s = db_session()
    link = s.get(DevLink, link_id)
    if link is None:
        abort(404)
    _course, user, _role = _course_for_user(link.course_id)
    tool = s.get(DevTool, link.tool_id)
    assert tool is not None
    return _initiate(tool, user, {"link": link.id}, link.url or tool.target_link_uri)


def _moodle_activity() -> tuple[DevLink, DevTool]:
    link = db_session().get(DevLink, request.args.get("id", type=int))
    tool = db_session().get(DevTool, link.tool_id) if link is not None else None
    if link is None or tool is None or tool.flavour != "moodle":
        abort(_refused(404, "There is no Moodle activity with this id (Moodle's launch page)."))
    return link, tool


@bp.get("/mod/lti/launch.php")
def moodle_launch_page() -> str:
    """Moodle's launch page of an activity (``id`` = its course module, the ``cmid`` of
    Moodle's message hint): the course page frames it, and opened in a window of its own it
    starts a fresh launch there, first-party (moodle/moodle ``mod/lti/launch.php``). With
    ``action=gradeReport`` it starts an LtiSubmissionReviewRequest for ``user``, checking no
    more than Moodle's page does: that the person may open the activity."""
    link, tool = _moodle_activity()
    if request.args.get("action") != grader_launches.GRADE_REPORT:
        return launch_link(link.id)
    _course, user, _role = _course_for_user(link.course_id)
    what = grader_launches.submission_review_request(link, request.args.get("user", type=int))
    return _initiate(tool, user, what, link.url or tool.target_link_uri)


@bp.get("/mod/lti/grade.php")
def moodle_grade_page() -> Response:
    """Moodle's grade hook of an LTI activity, where the grader report's cell links: on to the
    activity's view page for that user's grade report (moodle/moodle ``mod/lti/grade.php``)."""
    link, _tool = _moodle_activity()
    _course_for_user(link.course_id)
    return redirect(
        url_for(
            "devlms.moodle_view_page",
            id=link.id,
            action=grader_launches.GRADE_REPORT,
            user=request.args.get("userid", 0, type=int),
        )
    )


@bp.get("/mod/lti/view.php")
def moodle_view_page() -> Response | str:
    """Moodle's view page of an LTI activity: with ``action=gradeReport`` it frames the launch
    page for ``user``'s grade report, for a grader only when ``user`` is someone else (Moodle's
    ``gradereport/grader:view``); otherwise the activity on its course page."""
    link, _tool = _moodle_activity()
    course, user, role = _course_for_user(link.course_id)
    if request.args.get("action") != grader_launches.GRADE_REPORT:
        return redirect(url_for("devlms.course", course_id=course.id, open=link.id))
    for_user = request.args.get("user", 0, type=int)
    if for_user and for_user != user.id and role not in TEACHING_ROLES:
        abort(_refused(403, grader_launches.MOODLE_NO_PERMISSION))
    learner = db_session().get(DevUser, for_user) if for_user else None
    src = url_for(
        "devlms.moodle_launch_page",
        id=link.id,
        triggerview=0,
        action=grader_launches.GRADE_REPORT,
        user=for_user,
    )
    return render_template(
        "devlms/grade_launch.html",
        course=course,
        heading=link.title,
        learner=learner,
        src=src,
        message=None,
        platform_storage=False,
    )


@bp.get("/courses/<int:course_id>/external_tools/retrieve")
def canvas_retrieve(course_id: int) -> str:
    """Canvas's full-window launch of a tool (what ``requestFullWindowLaunch`` opens): the
    resource link named by ``resource_link_id`` launched again, or, for the course menu item,
    the ``url`` asked for; a fresh login initiation in this window (instructure/canvas-lms
    ``ExternalToolsController#retrieve``, ``find_tool_and_url``)."""
    course, user, _role = _course_for_user(course_id)
    s = db_session()
    url = request.args.get("url", "")
    rlid = request.args.get("resource_link_id")
    link = (
        s.scalars(
            select(DevLink).where(DevLink.resource_link_id == rlid, DevLink.course_id == course.id)
        ).first()
        if rlid
        else None
    )
    if link is None and request.args.get("assignment_id"):
        # SpeedGrader's launch of a submission's URL, as the assignment's link (any person in
        # the course may open it: a learner does, from their submission's details).
        link = grader_launches.assignment_link(s, course, request.args["assignment_id"])
        tool = s.get(DevTool, link.tool_id) if link is not None else None
        if link is not None and tool is not None and tool.flavour in CANVAS_FLAVOURS:
            target = grader_launches.retrieve_target(tool, link, url)
            return _initiate(tool, user, {"link": link.id}, target)
        abort(_refused(404, "Couldn't find valid settings for this link"))
    if link is not None:
        tool = s.get(DevTool, link.tool_id)
        if tool is not None and tool.flavour in CANVAS_FLAVOURS:
            # Canvas launches the resource link's own URL; the asked-for one when it has none.
            return _initiate(tool, user, {"link": link.id}, link.url or url)
    elif request.args.get("placement") == "course_navigation":
        tool = courses.canvas_tool_for_url(s, url, request.args.get("client_id"))
        if tool is not None and placements.has_course_navigation(tool):
            return _initiate(tool, user, {"course_navigation": course.id}, url)
    abort(_refused(404, "Couldn't find valid settings for this link"))


@bp.get("/launch/deep-link/<int:course_id>/<int:tool_id>", defaults={"placement": None})
@bp.get("/launch/deep-link/<int:course_id>/<int:tool_id>/<placement>")
def launch_deep_link(course_id: int, tool_id: int, placement: str | None) -> str:
    """Start a Deep Linking launch from one of the course's add screens (``placement``: Moodle's
    ``select_content``, Canvas's ``assignment_selection`` or ``link_selection``; the flavour's
    default when left out)."""
    course, user, role = _course_for_user(course_id)
    if role not in CONTENT_ROLES:
        abort(_refused(403, "Only the course's teachers, designers and administrators add it."))
    tool = db_session().get(DevTool, tool_id)
    if tool is None:
        abort(404)
    if not course_tools.may_add(db_session(), course, tool):
        # Moodle: a tool the course does not show in its activity chooser cannot be added.
        abort(_refused(404, f"{tool.name} is not in this course's activity chooser."))
    entry = placements.find_placement(tool, placement)
    if entry is None:
        abort(
            _refused(
                400,
                f"{tool.name} behaves like {FLAVOURS.get(tool.flavour, tool.flavour)}, which has "
                f"no {placement!r} screen; its screens are: "
                f"{placements.describe_placements(tool)}.",
            )
        )
    return _initiate(
        tool,
        user,
        {"deep_link": course.id, "placement": entry.code},
        tool.deep_link_uri or tool.target_link_uri,
    )


@bp.get("/launch/course-navigation/<int:course_id>/<int:tool_id>")
def launch_course_navigation(course_id: int, tool_id: int) -> str:
    """Start the launch of a tool's course menu item (Canvas's course_navigation placement)."""
    course, user, role = _course_for_user(course_id)
    tool = db_session().get(DevTool, tool_id)
    if tool is None:
        abort(404)
    if not placements.has_course_navigation(tool, role):
        abort(
            _refused(
                404,
                f"{tool.name} has no item in this course's menu (only a Canvas-flavoured tool "
                "with a course navigation URI has one).",
            )
        )
    assert tool.course_navigation_uri is not None
    return _initiate(tool, user, {"course_navigation": course.id}, tool.course_navigation_uri)


# --- More → LTI External tools (Moodle 4.3+) ----------


def _course_to_manage_tools(course_id: int) -> DevCourse:
    course, _user, role = _course_for_user(course_id)
    if not course_tools.may_manage(role):
        abort(_refused(403, course_tools.NO_PERMISSION))
    return course


@bp.get("/mod/lti/coursetools.php")
def course_tools_page() -> str:
    """The course's LTI External tools: each tool it may use, how many activities launch it,
    and whether its activity chooser shows it (moodle/moodle ``mod/lti/coursetools.php``)."""
    course = _course_to_manage_tools(request.args.get("id", type=int) or 0)
    return render_template(
        "devlms/course_tools.html",
        course=course,
        rows=course_tools.course_tools(db_session(), course),
        show_label=course_tools.SHOW_IN_CHOOSER,
        title=course_tools.PAGE_TITLE,
    )


@bp.post("/mod/lti/coursetools.php")
def show_in_activity_chooser() -> Response:
    """The "Show in activity chooser" toggle, for this course only (Moodle's
    ``mod_lti_toggle_showinactivitychooser``)."""
    course = _course_to_manage_tools(request.args.get("id", type=int) or 0)
    shown = request.form.get("coursevisible", "")
    if shown not in {"0", "1"}:
        abort(_refused(400, "Say whether to show the tool (coursevisible 1) or not (0)."))
    try:
        course_tools.show_in_chooser(
            db_session(), course, request.form.get("tooltypeid", type=int) or 0, shown == "1"
        )
    except LookupError:
        abort(_refused(404, "This course's LTI External tools list no such tool."))
    return redirect(url_for("devlms.course_tools_page", id=course.id), code=303)


# --- course copy ----------


def _course_to_copy(course_id: int) -> DevCourse:
    course, _user, role = _course_for_user(course_id)
    if not courses.may_copy(role):
        abort(_refused(403, "Only the course's instructors can copy it."))
    return course


@bp.get("/courses/<int:course_id>/copy")
def confirm_copy(course_id: int) -> str:
    """Ask before copying: what the copy will hold, and what changes."""
    course = _course_to_copy(course_id)
    links = courses.course_links(db_session(), course.id)
    return render_template("devlms/copy_course.html", course=course, links=links)


@bp.post("/courses/<int:course_id>/copy")
def copy_course(course_id: int) -> Response:
    """Copy the course and open the copy."""
    course = _course_to_copy(course_id)
    copied = courses.copy_course(db_session(), course)
    return redirect(url_for("devlms.course", course_id=copied.course.id, copied=1))


def _refused(status: int, message: str) -> Response:
    return Response(render_template("devlms/refused.html", message=message), status=status)


def _initiate(tool: DevTool, user: DevUser, what: dict[str, Any], target_link_uri: str) -> str:
    """The login initiation form of a launch of ``what``, prepared for its one authorization."""
    if tool.flavour in CANVAS_FLAVOURS:
        # The course page may be on the school's own host, not the issuer's or the
        # authorization endpoint's: the authorization is finished there (see api.auth).
        what = {**what, "site": request.host_url.rstrip("/")}
    hint = launches.prepare(
        db_session(), tool, user, what, target_link_uri, current_app.config["SECRET_KEY"]
    )
    params = {
        "iss": settings().devlms_url,
        "login_hint": user.sub,
        "target_link_uri": target_link_uri,
        "lti_message_hint": hint,
        "client_id": tool.client_id,
        "lti_deployment_id": tool.deployment_id,
    }
    if tool.flavour in CANVAS_FLAVOURS:
        # Canvas also names the deployment ``deployment_id`` and adds its region hints; its
        # web pages offer platform storage in the sibling frame on the authorization host
        # (its mobile apps offer none: lib/lti/platform_storage.rb).
        params.update(
            deployment_id=tool.deployment_id,
            canvas_region="us-east-1",
            canvas_environment="production",
        )
        if tool.flavour == "canvas":
            params["lti_storage_target"] = STORAGE_FRAME
    return render_template("devlms/form_post.html", action=tool.initiate_login_uri, fields=params)


@bp.post("/tools/<int:tool_id>/flavour")
def set_flavour(tool_id: int) -> Response:
    """Make the LMS behave like Moodle, Canvas, or Canvas's mobile app towards a tool."""
    s = db_session()
    tool = s.get(DevTool, tool_id)
    flavour = request.form.get("flavour", "")
    if tool is None or flavour not in FLAVOURS:
        abort(400)
    tool.flavour = flavour
    s.commit()
    clients().forget()  # its tokens now meet the new flavour's rate limit, or none
    return redirect(url_for("devlms.home"))


@bp.get("/courses/<int:course_id>/gradebook")
def gradebook_page(course_id: int) -> str:
    """The course's gradebook, as its instructors see it: each learner's score, comment,
    progress and last update per column, and how many score POSTs each cell received."""
    course, user, role = _course_for_user(course_id)
    if role not in TEACHING_ROLES:
        abort(403)
    return render_template(
        "devlms/gradebook.html",
        course=course,
        user=user,
        book=gradebook.course_gradebook(db_session(), course),
        canvas_flavours=CANVAS_FLAVOURS,
    )


@bp.get("/courses/<int:course_id>/gradebook/speed_grader")
def speed_grader(course_id: int) -> str:
    """Canvas's SpeedGrader for one learner's submission to an assignment (a column here): the
    tool framed at the submission's URL when the tool's score recorded a ``basic_lti_launch``
    submission, else what Canvas says instead (app/devlms/grader_launches.py)."""
    course, _user, role = _course_for_user(course_id)
    if role not in TEACHING_ROLES:
        abort(_refused(403, "Only the course's teachers and TAs grade in SpeedGrader."))
    view = grader_launches.speed_grader(
        db_session(),
        course,
        request.args.get("assignment_id", type=int),
        request.args.get("student_id", type=int),
    )
    if view is None:
        abort(_refused(404, "The page you requested was not found."))
    src = None
    if view.message is None and view.launch_url is not None:
        src = url_for(
            "devlms.canvas_retrieve",
            course_id=course.id,
            display="borderless",
            assignment_id=view.column.id,
            url=view.launch_url,
        )
    return render_template(
        "devlms/grade_launch.html",
        course=course,
        heading=f"SpeedGrader: {view.column.label}",
        learner=view.learner,
        src=src,
        message=view.message,
        # Canvas's web pages host platform storage beside a tool's frame; its apps do not.
        platform_storage=src is not None and view.tool.flavour == "canvas",
        storage_frame_url=f"{settings().devlms_url}/{placements.STORAGE_FRAME}?"
        + urlencode({"parent_origin": request.host_url.rstrip("/")}),
    )


def _teacher_of(course_id: int) -> DevCourse:
    course, _user, role = _course_for_user(course_id)
    if role not in TEACHING_ROLES:
        abort(403)
    return course


@bp.post("/courses/<int:course_id>/gradebook/override")
def override_grade(course_id: int) -> Response:
    """A teacher sets a learner's grade by hand (Moodle: override in the grader report)."""
    course = _teacher_of(course_id)
    try:
        gradebook.override_grade(
            db_session(),
            course,
            request.form.get("line_item_id"),
            request.form.get("user_id"),
            request.form.get("grade", ""),
        )
    except PlatformError as exc:
        return _refused(exc.status, exc.description)
    return redirect(url_for("devlms.gradebook_page", course_id=course.id))


@bp.post("/courses/<int:course_id>/gradebook/override/remove")
def remove_override(course_id: int) -> Response:
    """A teacher gives a cell back to the tool (Moodle: untick "Overridden")."""
    course = _teacher_of(course_id)
    try:
        gradebook.remove_override(
            db_session(), course, request.form.get("line_item_id"), request.form.get("user_id")
        )
    except PlatformError as exc:
        return _refused(exc.status, exc.description)
    return redirect(url_for("devlms.gradebook_page", course_id=course.id))


# --- Site administration → LTI tools ----------


def _site_admin() -> DevUser:
    user = current_user()
    if user is None:
        abort(Response(render_template("devlms/choose_user_first.html"), status=403))
    if not registration.is_site_admin(user):
        abort(Response(render_template("devlms/not_site_admin.html"), status=403))
    return user


def _tools_page(status: int = 200, **context: Any) -> tuple[str, int]:
    page = render_template(
        "devlms/lti_tools.html",
        tools=registration.list_tools(db_session()),
        registration_flavours=registration.FLAVOURS,
        placements=registration.registered_placements,
        usage_setting=course_tools.USAGE_SETTING,
        usages=course_tools.USAGES,
        is_moodle=course_tools.is_moodle,
        **context,
    )
    return page, status


@bp.get("/admin/lti-tools")
def lti_tools() -> tuple[str, int]:
    """List the registered tools; after a registration or activation, say what happened."""
    _site_admin()
    s = db_session()
    registered_id = request.args.get("registered", "")
    activated_id = request.args.get("activated", "")
    saved_id = request.args.get("saved", "")
    registered = registration.find_tool(s, registered_id) if registered_id else None
    return _tools_page(
        registered=registered,
        registration_unfinished=bool(registered_id) and registered is None,
        activated=registration.find_tool(s, activated_id) if activated_id else None,
        saved=registration.find_tool(s, saved_id) if saved_id else None,
    )


@bp.post("/admin/lti-tools/register")
def register_tool_by_url() -> tuple[str, int]:
    """Open the tool's registration URL in an iframe, with a fresh registration token."""
    _site_admin()
    form = {
        "registration_url": request.form.get("registration_url", ""),
        "flavour": request.form.get("flavour", ""),
    }
    try:
        started = registration.start_registration(
            db_session(), settings(), form["registration_url"], form["flavour"]
        )
    except ValueError as exc:
        return _tools_page(400, form=form, form_error=str(exc))
    return _tools_page(
        form=form,
        started=started,
        done_url=url_for("devlms.lti_tools", registered=started.client_id),
    )


@bp.post("/admin/lti-tools/<int:tool_id>/activate")
def activate_tool(tool_id: int) -> Response:
    """Activate a pending tool (Moodle: Site administration → Plugins → Manage tools)."""
    _site_admin()
    tool = registration.activate_tool(db_session(), tool_id)
    if tool is None:
        abort(404)
    return redirect(url_for("devlms.lti_tools", activated=tool.client_id))


@bp.post("/admin/lti-tools/<int:tool_id>/usage")
def set_tool_configuration_usage(tool_id: int) -> Response:
    """Set a Moodle-flavoured tool's Tool configuration usage (Moodle: the tool's settings, the
    cog on its card under Manage tools)."""
    _site_admin()
    try:
        tool = course_tools.set_usage(
            db_session(), tool_id, request.form.get("coursevisible", type=int, default=-1)
        )
    except ValueError as exc:
        abort(_refused(400, str(exc)))
    if tool is None:
        abort(404)
    return redirect(url_for("devlms.lti_tools", saved=tool.client_id))


# --- Site administration → Service faults ----------


def _faults_page(status: int = 200, **context: Any) -> tuple[str, int]:
    current = faults.stored_faults(db_session())
    typed = {name: f"{getattr(current, name):g}" for name in faults.LABELS}
    buckets = request_throttle()
    seen = buckets.clients()
    names = {
        row.client_id: row.name
        for row in db_session().execute(
            select(DevTool.client_id, DevTool.name).where(DevTool.client_id.in_(seen))
        )
    }
    page = render_template(
        "devlms/service_faults.html",
        current=current,
        buckets=[(names.get(c, c), c, buckets.stats(c)) for c in seen],
        form=context.pop("form", typed),
        errors=context.pop("errors", {}),
        labels=faults.LABELS,
        limits={
            "latency": faults.MAX_LATENCY_MS,
            "retry_after": faults.MAX_RETRY_AFTER_SECONDS,
            "rate_limit": faults.MAX_RATE_LIMIT,
        },
        **context,
    )
    return page, status


@bp.get("/admin/service-faults")
def service_faults() -> tuple[str, int]:
    """Show the faults the service endpoints inject, in a form to change them."""
    _site_admin()
    return _faults_page(
        saved=request.args.get("saved") == "1", turned_off=request.args.get("off") == "1"
    )


@bp.post("/admin/service-faults")
def save_service_faults() -> Response | tuple[str, int]:
    """Store the settings, or show the form again with what to fix (nothing changed)."""
    _site_admin()
    typed = {name: request.form.get(name, "") for name in faults.LABELS}
    try:
        faults.set_faults(db_session(), **typed)
    except faults.InvalidFaults as exc:
        return _faults_page(400, form=typed, errors=exc.errors)
    return redirect(url_for("devlms.service_faults", saved=1))


@bp.post("/admin/service-faults/off")
def turn_service_faults_off() -> Response:
    """Turn every fault off at once."""
    _site_admin()
    faults.turn_off(db_session())
    return redirect(url_for("devlms.service_faults", off=1))


@bp.app_context_processor
def _inject_user() -> dict[str, Any]:
    user = current_user()
    return {
        "user": user,
        "is_site_admin": registration.is_site_admin(user),
        # Every page says when faults are on, so nobody is puzzled why grades lag.
        "service_faults": faults.current_faults(db_session()),
    }
