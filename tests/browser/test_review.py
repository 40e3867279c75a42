"""Reviewing in a real browser, inside the LMS's iframe (issue 9): an educator submits a video and
a PDF; an instructor opens the queue, claims the submission, watches the evidence beside the
rubric, marks one criterion "not yet" with a comment and confirms; the educator sees the feedback
and resubmits; the second review earns. axe-core on the queue, the review page and the
confirmation; screenshots in test-artifacts/browser/review-*.png."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Page, Response, Route, expect

from app.db import get_db
from tests.browser.accessibility import assert_no_violations
from tests.browser.conftest import fresh_page
from tests.browser.test_launch_in_iframe import COURSE, act_as
from tests.evidence.support import HINGE, add_activity
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

pytestmark = pytest.mark.browser

TITLE = "Questioning to Check for Understanding"
NOT_YET = "every-student-responds"
COMMENT = "The video shows only the front row answering; show the whole class's boards."

# Chromium records a canvas into an MP4 (VP9 in ISO BMFF, brand isom): a genuine video that the
# evidence store's sniffer accepts and the same browser plays, made without ffmpeg or a fixture.
RECORD_MP4 = """async () => {
  const mime = MediaRecorder.isTypeSupported("video/mp4;codecs=vp9") ?
    "video/mp4;codecs=vp9" : "video/mp4";
  const canvas = document.createElement("canvas");
  canvas.width = 320; canvas.height = 180;
  const g = canvas.getContext("2d");
  const recorder = new MediaRecorder(canvas.captureStream(10), {mimeType: mime});
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  for (let i = 0; i < 25; i++) {
    g.fillStyle = `hsl(${i * 14}, 55%, 35%)`;
    g.fillRect(0, 0, 320, 180);
    g.fillStyle = "#fff";
    g.font = "24px sans-serif";
    g.fillText(`Whiteboards up: ${i + 1}`, 24, 100);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  recorder.stop();
  await stopped;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""


def recorded_mp4(page: Page) -> bytes:
    data = base64.b64decode(page.evaluate(RECORD_MP4))
    assert data[4:12] == b"ftypisom", data[:16]
    return data


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with a line of text, its cross-reference table at the right offsets."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture
def activity(live: LiveServers) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


@pytest.fixture
def instructor_page(browser: Browser) -> Iterator[Page]:
    """The instructor's own browser (own cookies), beside the educator's ``page``."""
    with fresh_page(browser, bypass_csp=True) as new:
        yield new


def open_activity(page: Page, live: LiveServers, person: str, activity: str) -> Frame:
    act_as(page, live, person)
    page.get_by_role("link", name=COURSE).click()
    page.get_by_role("link", name=activity, exact=True).click()
    tool = page.frame_locator("iframe.tool")
    expect(tool.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    handle = page.locator("iframe.tool").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def shoot(page: Page, frame: Frame, path: Path) -> None:
    """A full-page screenshot with the LMS's iframe grown to its content."""
    height = frame.evaluate(
        "() => { window.scrollTo(0, 0);"
        " document.querySelectorAll('.rubric-column').forEach((c) => { c.scrollTop = 0; });"
        " return document.documentElement.scrollHeight; }"
    )
    page.evaluate(f"() => {{ document.querySelector('iframe.tool').style.height = '{height}px'; }}")
    page.screenshot(path=str(path), full_page=True)
    page.evaluate("() => { document.querySelector('iframe.tool').style.height = ''; }")


def is_evidence(response: Response, media_type: str) -> bool:
    return "/evidence/files/" in response.url and (
        response.headers.get("content-type", "").startswith(media_type)
    )


def workspace_ready(frame: Frame) -> None:
    expect(frame.locator("#workspace[data-autosave=on]")).to_have_count(1)


def reload(frame: Frame) -> None:
    frame.goto(frame.url.split("#")[0])


def saved(frame: Frame, part: str) -> None:
    expect(frame.locator(f"#save-{part}")).to_have_text(re.compile(r"^Saved .*\d{4}"))


def upload(frame: Frame, part: str, name: str, media_type: str, data: bytes) -> None:
    box = frame.locator(f"#part-{part}")
    box.get_by_label("Add a file").set_input_files(
        {"name": name, "mimeType": media_type, "buffer": data}
    )
    box.get_by_role("button", name="Upload the file").click()
    expect(box.get_by_role("link", name=name, exact=True)).to_be_visible()


def submit(frame: Frame) -> None:
    frame.get_by_role("link", name="Review and submit").click()
    frame.get_by_role("button", name="Submit for review").click()
    expect(frame.locator("#state")).to_contain_text("Submitted")
    # Issue 28 item 14: the banner that says so is wholly in view, not half scrolled away.
    expect(frame.locator("#state")).to_be_in_viewport(ratio=1)


def open_queue(frame: Frame) -> None:
    """Follow the activity page's "Review submissions" link."""
    frame.get_by_role("link", name="Review submissions").click()
    expect(frame.get_by_role("heading", level=1)).to_have_text("Submissions to review")


def claim(frame: Frame) -> None:
    """Press "Review" on the queue's only row; wait until the page's autosave listens."""
    row = frame.locator("table.queue tbody tr")
    expect(row).to_have_count(1)
    row.get_by_role("button", name=re.compile(r"^Review ")).click()
    expect(frame.get_by_role("heading", level=1)).to_contain_text(TITLE)
    review_ready(frame)


def review_ready(frame: Frame) -> None:
    expect(frame.locator("#review[data-autosave=on]")).to_have_count(1)


def judge(frame: Frame, marks: dict[str, tuple[str, str]]) -> None:
    for key, (mark, comment) in marks.items():
        criterion = frame.locator(f"#criterion-{key}")
        criterion.get_by_label(mark, exact=True).check()
        if comment:
            criterion.get_by_label(re.compile("^Comment to the educator")).fill(comment)
    expect(frame.locator("[data-review-status]")).to_contain_text("Draft saved")


# The recording's transcript as WebVTT captions (issue 28 item 15, WCAG 1.2.1 and 1.2.2): the
# player shows them, the page reads them without their timings.
CAPTIONS = (
    "WEBVTT\n\n00:00.000 --> 00:00.800\nTeacher: Boards up.\n\n"
    "00:00.800 --> 00:01.600\nMost boards show B; two show C.\n\n"
    "00:01.600 --> 00:02.400\nTeacher: Let's look at C.\n"
)
TRANSCRIPT = "Teacher: Boards up.\nMost boards show B; two show C.\nTeacher: Let's look at C."


def test_a_submission_is_reviewed_not_yet_resubmitted_and_earned(
    page: Page,
    instructor_page: Page,
    live: LiveServers,
    activity: str,
    artifacts: Path,
) -> None:
    refused_frames: list[str] = []
    instructor_page.on(
        "console",
        lambda message: (
            refused_frames.append(message.text) if "frame-ancestors" in message.text else None
        ),
    )

    # The educator: a text, a PDF lesson plan, a video of the students' responses; submit.
    educator = open_activity(page, live, "Jordan Lee", activity)
    educator.get_by_role("button", name="Start this micro-credential").click()
    workspace_ready(educator)
    educator.locator("#text-overview").fill("Grade 7 science, 28 students; hinge on density.")
    saved(educator, "overview")
    educator.locator("#text-reflection").fill("Most boards showed B; I retaught with a demo.")
    saved(educator, "reflection")
    upload(educator, "lesson-plan", "lesson-plan.pdf", "application/pdf", minimal_pdf("Plan"))
    upload(educator, "response-evidence", "whiteboards.mp4", "video/mp4", recorded_mp4(page))
    # Issue 28 item 15: a transcript for an assessor who cannot hear or see the recording.
    transcript = educator.get_by_label("Transcript of whiteboards.mp4")
    # As a captioning tool gives them: a .vtt file, read into the field.
    educator.get_by_label("Or load captions of whiteboards.mp4 from a file (.vtt)").set_input_files(
        files=[{"name": "whiteboards.vtt", "mimeType": "text/vtt", "buffer": CAPTIONS.encode()}]
    )
    expect(transcript).to_have_value(CAPTIONS.strip())
    educator.get_by_role("button", name="Save the transcript").click()
    educator.wait_for_url(re.compile(r"#file-\d+$"))  # the workspace again, at the file
    workspace_ready(educator)
    expect(educator.get_by_label("Transcript of whiteboards.mp4")).to_have_value(CAPTIONS.strip())
    expect(educator.locator("#part-response-evidence").get_by_role("status").first).to_have_text(
        "Saved."
    )
    assert_no_violations(educator, "the workspace with a video and its transcript")
    educator.locator("#part-response-evidence").screenshot(
        path=str(artifacts / "review-educator-transcript.png")
    )
    submit(educator)

    # The instructor: the queue, blind by default.
    instructor = open_activity(instructor_page, live, "Maria Alvarez", activity)
    open_queue(instructor)
    rows = instructor.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Hidden (blind review)")
    expect(rows.first).not_to_contain_text("Jordan")
    assert_no_violations(instructor, "the review queue")
    shoot(instructor_page, instructor, artifacts / "review-queue.png")

    # Claim it: the evidence beside the rubric, the video and the PDF in their viewers. The
    # video is fetched by ranges (206), as a browser seeks; the PDF is framed whole.
    with (
        instructor_page.expect_response(lambda r: is_evidence(r, "video/mp4")) as video_response,
        instructor_page.expect_response(
            lambda r: is_evidence(r, "application/pdf")
        ) as pdf_response,
    ):
        claim(instructor)
    assert video_response.value.status == 206
    assert pdf_response.value.status == 200
    expect(instructor.locator("video")).to_have_count(1)
    instructor.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return v.readyState >= 1 && Number.isFinite(v.duration) && v.duration > 1; }"
    )
    pdf = instructor.locator("iframe.pdf-viewer")
    expect(pdf).to_be_visible()
    expect(pdf).to_have_attribute("title", re.compile("^PDF evidence"))

    # By keyboard: skip the evidence to the rubric; focus is visible; Space marks "Met".
    instructor.get_by_role("link", name="Skip to the rubric").focus()
    instructor_page.keyboard.press("Enter")
    instructor_page.keyboard.press("Tab")
    first = instructor.locator("#criterion-diagnostic-question")
    expect(first.get_by_role("link", name="Context and plan")).to_be_focused()
    expect(first.get_by_role("link", name="Context and plan")).to_have_css("outline-style", "solid")
    instructor_page.keyboard.press("Tab")
    met = first.get_by_label("Met", exact=True)
    expect(met).to_be_focused()
    expect(first.locator(".judgement label").first).to_have_css("outline-style", "solid")
    instructor_page.keyboard.press("Space")
    expect(met).to_be_checked()

    # Continuing with criteria unjudged: a 400, the error summary takes the focus.
    instructor.get_by_role("button", name="Continue to the decision").click()
    review_ready(instructor)
    summary = instructor.locator("#review-error")
    expect(summary).to_contain_text("mark every criterion met or not yet")
    expect(summary).to_be_focused()
    shoot(instructor_page, instructor, artifacts / "review-error.png")

    marks: dict[str, tuple[str, str]] = {
        key: ("Met", "")
        for key in ("diagnostic-question", "planned-decision-rule", "responsive-adjustment")
    }
    marks[NOT_YET] = ("Not yet", COMMENT)
    marks["next-steps"] = ("Met", "")
    judge(instructor, marks)
    expect(summary).to_be_hidden()  # every flagged criterion is judged now
    instructor.get_by_label("Overall feedback to the educator").fill(
        "A strong hinge question. One more piece of evidence and it is there."
    )
    expect(instructor.locator("[data-review-status]")).to_contain_text("by the rule: not yet")
    video = instructor.get_by_role("figure").filter(has_text="The educator\u2019s transcript")
    expect(video).to_contain_text(TRANSCRIPT)
    described = video.locator("video").get_attribute("aria-describedby")
    assert described and instructor.locator(f"#{described}").inner_text().endswith(TRANSCRIPT)
    # The player loaded the captions track, every cue of it.
    cues = video.locator("video").evaluate(
        """(v) => new Promise((resolve) => {
            const track = v.querySelector("track");
            const done = () => resolve(track.readyState === 2 ? track.track.cues.length : -1);
            if (track.readyState >= 2) { done(); return; }
            track.addEventListener("load", done);
            track.addEventListener("error", done);
        })"""
    )
    assert cues == 3
    assert_no_violations(instructor, "the review page (claimed)")
    shoot(instructor_page, instructor, artifacts / "review-page.png")
    # As seen in the LMS's frame: the evidence scrolled to the video, the rubric still in view.
    # Its "Judged by" link brings the criterion into view beside it.
    evidence = instructor.locator("#part-response-evidence")
    evidence.evaluate("(part) => part.scrollIntoView()")
    evidence.get_by_role("link", name="Every student responds").click()
    expect(instructor.locator(f"#criterion-{NOT_YET}")).to_be_in_viewport()
    expect(instructor.locator("video")).to_be_in_viewport()
    instructor_page.screenshot(path=str(artifacts / "review-page-scrolled.png"))
    # A narrower LMS frame (~900 px): one column, the evidence first.
    instructor_page.set_viewport_size({"width": 960, "height": 900})
    expect(instructor.locator(".rubric-column")).to_have_css("position", "static")
    shoot(instructor_page, instructor, artifacts / "review-page-narrow.png")
    instructor_page.set_viewport_size({"width": 1280, "height": 900})

    instructor.get_by_role("button", name="Continue to the decision").click()
    expect(instructor.get_by_role("heading", level=1)).to_have_text("Confirm the decision")
    expect(instructor.locator(".outcome")).to_have_text("Not yet")
    assert_no_violations(instructor, "the confirmation page")
    shoot(instructor_page, instructor, artifacts / "review-confirm.png")
    instructor.get_by_role("button", name="Confirm: not yet").click()
    expect(instructor.get_by_role("status")).to_contain_text("Decision recorded: not yet")

    # The educator sees the decision and the comment, starts attempt 2 and resubmits.
    reload(educator)
    expect(educator.locator("#state")).to_contain_text("Not yet")
    expect(educator.locator("#decision")).to_contain_text(COMMENT)
    shoot(page, educator, artifacts / "review-educator-not-yet.png")
    educator.get_by_label("What I changed, or will change").fill("A video of every board.")
    educator.get_by_role("button", name="Start attempt 2").click()
    expect(educator.locator("#state")).to_contain_text("attempt 2 of 3")
    workspace_ready(educator)
    educator.locator("#text-reflection").fill(
        "Every student held up a board; the new video shows the whole room."
    )
    saved(educator, "reflection")
    submit(educator)

    # The second review: everything met; the previous feedback is there to compare.
    reload(instructor)
    expect(instructor.locator("table.queue tbody tr")).to_contain_text("(attempt 2)")
    claim(instructor)
    expect(instructor.locator("details.previous")).to_contain_text("A video of every board.")
    judge(instructor, {key: ("Met", "") for key in (*marks,)})
    instructor.get_by_role("button", name="Continue to the decision").click()
    expect(instructor.locator(".outcome")).to_have_text("Earned")
    instructor.get_by_role("button", name="Confirm: earned").click()
    expect(instructor.get_by_role("status")).to_contain_text("Decision recorded: earned")
    expect(instructor.locator("table.queue")).to_have_count(0)

    reload(educator)
    expect(educator.locator("#state")).to_contain_text("Earned")
    shoot(page, educator, artifacts / "review-educator-earned.png")

    # The PDF was shown, not refused: the review page is itself framed by the LMS, and a
    # frame-ancestors policy applies to every ancestor, so "'self'" alone blocks the PDF there.
    assert not refused_frames, (
        "the PDF viewer was refused inside the LMS's frame: the inline PDF's "
        "frame-ancestors must name the platforms' origins as the tool's pages do "
        f"(app/evidence/file_views.py PDF_CSP): {refused_frames}"
    )


def test_a_judgement_made_before_the_script_has_started_is_saved(
    browser: Browser, live: LiveServers, activity: str
) -> None:
    """On a slow laptop the review page is there before its deferred script runs: a mark made
    then is a change like any other, saved once the script starts."""
    from tests.evidence.support import INSTRUCTOR, LEARNER, launch
    from tests.grading.support import claim as claim_over_http
    from tests.grading.support import reviews, submitted

    attempt = submitted(launch(live, LEARNER, activity))
    url = claim_over_http(launch(live, INSTRUCTOR, activity), attempt).url
    held: list[Route] = []
    with fresh_page(browser, bypass_csp=True) as page:
        page.route("**/review.js*", lambda route: held.append(route))
        page.goto(url, wait_until="commit")
        page.locator(f"#criterion-{NOT_YET}").get_by_label("Not yet", exact=True).check()
        expect(page.locator("#review[data-autosave=on]")).to_have_count(0)
        assert len(held) == 1
        held[0].continue_()
        review_ready(page.main_frame)
        expect(page.locator("[data-review-status]")).to_contain_text("Draft saved")
    [review] = reviews(live, attempt)
    assert review.criteria[NOT_YET]["met"] is False


def test_one_click_continues_to_the_decision_after_typing_feedback(
    browser: Browser, live: LiveServers, activity: str
) -> None:
    """Issue 28 item 3: pressing the button blurs the feedback, which saves the draft and
    rewrites the status line. Nothing above the button may change height between the mouse
    going down and coming up, or the click lands beside it and is lost."""
    from tests.evidence.support import INSTRUCTOR, LEARNER, launch
    from tests.grading.support import CRITERIA, submitted
    from tests.grading.support import claim as claim_over_http

    attempt = submitted(launch(live, LEARNER, activity))
    url = claim_over_http(launch(live, INSTRUCTOR, activity), attempt).url
    with fresh_page(browser, bypass_csp=True) as page:
        # A narrow LMS frame (the status line wraps), tall enough that the button is in view
        # unscrolled: Chromium's scroll anchoring would otherwise hide a shift above it.
        page.set_viewport_size({"width": 600, "height": 2400})
        page.goto(url)
        review_ready(page.main_frame)
        judge(page.main_frame, {key: ("Met", "") for key in CRITERIA})
        page.get_by_label("Overall feedback to the educator").fill("Clear evidence throughout.")
        status = page.locator("[data-review-status]")
        expect(status).to_contain_text("by the rule: earned")
        button = page.get_by_role("button", name="Continue to the decision")
        before = button.bounding_box()
        assert before is not None
        page.mouse.move(before["x"] + before["width"] / 2, before["y"] + before["height"] / 2)
        page.mouse.down()  # the feedback loses focus: its "change" event fires now
        assert button.bounding_box() == before
        page.mouse.up()
        expect(page.get_by_role("heading", level=1)).to_contain_text("decision")


SPOKEN = """() => {
  window.spoken = [];
  const live = "[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log]";
  for (const region of document.querySelectorAll(live)) {
    new MutationObserver(() => window.spoken.push(region.textContent.trim()))
      .observe(region, { childList: true, characterData: true, subtree: true });
  }
}"""


def test_the_review_status_speaks_only_what_the_reviewer_must_hear(
    browser: Browser, live: LiveServers, activity: str
) -> None:
    """Issue 28 item 15: the status line was a live region rewritten on every keystroke
    ("Unsaved changes…", "Saving…", "Draft saved at …"), so a screen reader talked over the
    assessor as they typed. The line is still shown; a screen reader hears the rule's outcome
    once every criterion is judged, a failed save once (not each retry), and that the draft is
    saved again."""
    from tests.evidence.support import INSTRUCTOR, LEARNER, launch
    from tests.grading.support import CRITERIA, submitted
    from tests.grading.support import claim as claim_over_http

    attempt = submitted(launch(live, LEARNER, activity))
    url = claim_over_http(launch(live, INSTRUCTOR, activity), attempt).url
    with fresh_page(browser, bypass_csp=True) as page:
        page.goto(url)
        review_ready(page.main_frame)
        page.evaluate(SPOKEN)
        status = page.locator("[data-review-status]")
        judge(page.main_frame, {key: ("Met", "") for key in CRITERIA})
        expect(status).to_contain_text("5 of 5 criteria judged · by the rule: earned")
        feedback = page.get_by_label("Overall feedback to the educator")
        feedback.press_sequentially("Clear evidence throughout.")
        expect(status).to_contain_text("Draft saved")
        spoken = page.evaluate("window.spoken")
        assert spoken == ["All 5 criteria judged. By the rule: earned."], spoken

        # The connection fails: said once, however many retries; then saved again.
        page.route("**/review/attempts/*/draft", lambda route: route.abort())
        feedback.press_sequentially(" Well done.")
        expect(status).to_contain_text("the connection failed. Trying again in 4 s")
        page.unroute("**/review/attempts/*/draft")
        expect(status).to_contain_text("Draft saved", timeout=15_000)
        spoken = page.evaluate("window.spoken")
        assert spoken[1:] == [
            "The draft is not saved: the connection failed. Microcred keeps trying; "
            "keep this page open.",
            "The draft is saved again.",
        ], spoken


def test_a_hold_about_to_end_says_so_and_is_kept_in_one_click(
    browser: Browser, live: LiveServers, activity: str, artifacts: Path
) -> None:
    """Issue 28 item 15 (WCAG 2.2.1): a reviewer's hold on a submission lapsed without a word
    after an hour without a save. Five minutes before, a warning in view says when, with a
    button that keeps it; when it has ended with the page open, it says that too."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.db import utcnow
    from app.grading.models import Review
    from tests.evidence.support import INSTRUCTOR, LEARNER, launch
    from tests.grading.support import claim as claim_over_http
    from tests.grading.support import reviews, submitted

    attempt = submitted(launch(live, LEARNER, activity))
    url = claim_over_http(launch(live, INSTRUCTOR, activity), attempt).url
    # As if the page had been open 57 minutes without a save: 3 minutes of the hold are left.
    with get_db(live.tool).begin() as session:
        session.execute(
            update(Review)
            .where(Review.attempt_id == attempt)
            .values(expires_at=utcnow() + timedelta(minutes=3))
            .execution_options(all_platforms=True)
        )
    with fresh_page(browser, bypass_csp=True) as page:
        page.clock.install()
        page.goto(url)
        review_ready(page.main_frame)
        warning = page.locator("[data-hold-warning]")
        expect(warning).to_have_attribute("role", "alert")
        expect(warning).to_contain_text("Your hold on this submission ends at")
        assert warning.evaluate(
            "(el) => el.getBoundingClientRect().bottom <= window.innerHeight"
        ), "the warning is out of sight"
        page.screenshot(path=str(artifacts / "review-hold-warning.png"))
        warning.get_by_role("button", name="Keep it for another hour").click()
        expect(warning).to_be_hidden()
        (review,) = reviews(live, attempt)
        assert review.expires_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None) + timedelta(
            minutes=55
        )

        # The page stays open past the renewed hour: it says the hold has ended.
        page.clock.fast_forward(61 * 60 * 1000)
        expect(warning).to_contain_text("Your hold on this submission ended at")
        expect(warning.get_by_role("button", name="Keep it for another hour")).to_be_visible()
