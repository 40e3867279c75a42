"""The score endpoint beyond Moodle's field rules (tests/devlms/test_ags.py): two scores for one
gradebook cell at once never fail on the database (the one stored second is refused as stale,
409, and the log counts only what was accepted), and a timestamp that is no date is a 400."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.support.score_sender import ScoreSender


def test_the_same_first_score_sent_at_once_is_stored_once(live):
    sender = ScoreSender(live)
    body = sender.body()
    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(lambda _: sender.post(body).status_code, range(6)))
    assert statuses == [204] + [409] * 5
    assert sender.logged() == 1


def test_newer_scores_sent_at_once_to_a_stored_cell_leave_one_winner(live):
    sender = ScoreSender(live)
    assert sender.post().status_code == 204
    body = sender.body(scoreGiven=90)
    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(lambda _: sender.post(body).status_code, range(6)))
    assert statuses == [204] + [409] * 5
    assert sender.logged() == 2
    assert sender.grade().score_given == 90


def test_timestamp_of_an_impossible_date_is_refused_with_400(live):
    sender = ScoreSender(live)
    response = sender.post(sender.body(timestamp="2026-13-45T10:00:00.000Z"))
    assert response.status_code == 400
    assert "ISO 8601" in response.json()["error_description"]
