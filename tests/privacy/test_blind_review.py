"""An export holds the reviews' feedback exactly as the educator's outcome page shows it: with
two blind reviews, nothing while the second is awaited (the page shows none), then each
reviewer's feedback and comments apart, as "first" and "second", never who they were."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app.db import get_db
from app.lti.models import LtiUser
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, add_activity, launch
from tests.grading.support import decide, judgement, set_review, submitted
from tests.privacy.support import everything, read_export, run
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers

DEMO_TA = "dana.kim@example.edu"
FIRST_FEEDBACK = "The hinge question is sharp; the reflection needs numbers."
SECOND_FEEDBACK = "A clear plan. Count the responses in the reflection."
FIRST_COMMENT = "Say how many students chose each answer."
SECOND_COMMENT = "The reflection gives no count of the responses."
REVIEWERS = (b"Maria", b"Alvarez", b"Dana", b"Kim", INSTRUCTOR.encode(), DEMO_TA.encode())


def _export(live: LiveServers, out: Path):
    with get_db(live.tool).begin() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.email == LEARNER)).one()
        sub, registration_id = user.sub, user.registration_id
    from app.lti.models import Registration

    with get_db(live.tool).begin() as session:
        platform = session.get_one(Registration, registration_id).name
    result = run(live.tool, "export", "--platform", platform, "--sub", sub, "--out", str(out))
    assert result.exit_code == 0, result.output
    return read_export(out)


def test_two_blind_reviews_are_exported_as_the_educator_was_shown_them(
    live: LiveServers, tmp_path: Path
) -> None:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, second_review=True, blind=True)
    activity = add_activity(live, HINGE)
    attempt = submitted(launch(live, LEARNER, activity))
    decide(
        launch(live, INSTRUCTOR, activity),
        attempt,
        judgement({"responsive-adjustment": False}, FIRST_COMMENT),
        FIRST_FEEDBACK,
    )

    waiting = _export(live, tmp_path / "waiting.zip")
    (shown,) = waiting.data["people"][0]["attempts"]
    assert shown["decision"] is None
    assert FIRST_FEEDBACK.encode() not in everything(waiting)
    assert FIRST_COMMENT.encode() not in everything(waiting)

    decide(
        launch(live, DEMO_TA, activity),
        attempt,
        judgement({"responsive-adjustment": False}, SECOND_COMMENT),
        SECOND_FEEDBACK,
    )
    decided = _export(live, tmp_path / "decided.zip")
    (shown,) = decided.data["people"][0]["attempts"]
    decision = shown["decision"]
    assert decision["outcome"] == "not_yet"
    assert [(v["ordinal"], v["feedback"]) for v in decision["voices"]] == [
        ("first", FIRST_FEEDBACK),
        ("second", SECOND_FEEDBACK),
    ]
    (criterion,) = [c for c in decision["criteria"] if c["key"] == "responsive-adjustment"]
    assert criterion["comments_by"] == [["first", FIRST_COMMENT], ["second", SECOND_COMMENT]]
    assert "The first reviewer's feedback:" in decided.index
    assert SECOND_FEEDBACK in decided.index
    assert f"The second reviewer's comment: {SECOND_COMMENT}" in decided.index
    whole = everything(decided)
    for name in REVIEWERS:
        assert name not in whole, name
