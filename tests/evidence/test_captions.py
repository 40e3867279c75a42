"""WebVTT captions as a recording's transcript (issue 28 item 15; WCAG 1.2.2): what is read as
captions, what is refused and where, the track a player loads, and who may load it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.db import get_db
from app.evidence import captions
from app.evidence.models import EvidenceFile
from app.evidence.storage import CHUNK_SIZE
from tests.evidence.conftest import file_row

VTT = """WEBVTT - exported by a captioning tool

NOTE the teacher's voice only

1
00:00:01.000 --> 00:00:04.500 align:start
Teacher: Boards up, everyone.

00:05.000 --> 00:09.000
Most boards show <b>B</b>;
two show C &amp; one shows D.
"""

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00" + bytes(64)


def test_webvtt_is_read_as_cues_and_its_text_as_a_transcript():
    cues = captions.parse(VTT)
    assert [(c.start, c.end) for c in cues] == [(1.0, 4.5), (5.0, 9.0)]
    assert captions.transcript(VTT) == (
        "Teacher: Boards up, everyone.\nMost boards show B; two show C & one shows D."
    )
    assert captions.is_webvtt("\ufeffWEBVTT\n\n00:01.000 --> 00:02.000\nHi")
    assert not captions.is_webvtt("Teacher: boards up.")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("WEBVTTX\n\n00:01.000 --> 00:02.000\nHi", 1, "the first line must be WEBVTT"),
        ("WEBVTT\n\n00:01.000 -> 00:02.000\nHi", 4, "timing line is missing"),
        ("WEBVTT\n\n1\n00:01 --> 00:02.000\nHi", 4, "is not a timing like"),
        ("WEBVTT\n\n00:03.000 --> 00:02.000\nHi", 3, "ends before it starts"),
        ("WEBVTT\n\n00:01.000 --> 00:02.000", 4, "the cue has no text"),
        ("WEBVTT\n\nNOTE nothing timed here\n", 4, "there are no cues"),
    ],
)
def test_malformed_webvtt_is_refused_naming_the_line(text, line, problem):
    with pytest.raises(captions.CaptionsInvalid) as refused:
        captions.parse(text)
    assert f"on line {line}:" in refused.value.message and problem in refused.value.message


def _describe(educator, file_id: int, text: str):
    return educator.http.post(
        f"{educator.base}/work/files/{file_id}/description",
        data={"lt": educator.token, "description": text},
        timeout=30,
    )


def test_a_recordings_captions_are_kept_checked_and_served_as_its_track(educator, live):
    recording = educator.upload("lesson.wav", WAV, CHUNK_SIZE)
    broken = _describe(educator, recording["id"], "WEBVTT\n\n00:03.000 --> 00:02.000\nHi")
    assert broken.status_code == 400 and "on line 3" in broken.text
    assert file_row(live, recording["id"]).description is None
    long_captions = VTT + "".join(
        f"\n00:{m:02d}:10.000 --> 00:{m:02d}:20.000\n"
        f"What was said in minute {m}, and how the class answered.\n"
        for m in range(1, 60)
    )
    assert len(long_captions) > 5000  # longer than a plain transcript may be
    assert _describe(educator, recording["id"], long_captions).status_code == 200
    track = educator.http.get(
        f"{educator.base}/evidence/files/{recording['id']}/captions.vtt",
        params={"lt": educator.token},
        timeout=30,
    )
    assert track.status_code == 200
    assert track.headers["Content-Type"].startswith("text/vtt")
    assert track.text == long_captions.strip()
    assert "sandbox" in track.headers["Content-Security-Policy"]


def test_an_image_or_a_plain_transcript_has_no_track(educator, live):
    from tests.support.images import png

    image = educator.upload("board.png", png(), CHUNK_SIZE)
    assert _describe(educator, image["id"], "WEBVTT is written on the board.").status_code == 200
    recording = educator.upload("lesson.wav", WAV, CHUNK_SIZE)
    assert _describe(educator, recording["id"], "Teacher: boards up.").status_code == 200
    for file_id in (image["id"], recording["id"]):
        missing = educator.http.get(
            f"{educator.base}/evidence/files/{file_id}/captions.vtt",
            params={"lt": educator.token},
            timeout=30,
        )
        assert missing.status_code == 404 and "has no captions" in missing.text


def test_another_educator_cannot_load_the_track(educator, other_educator, live):
    recording = educator.upload("lesson.wav", WAV, CHUNK_SIZE)
    assert _describe(educator, recording["id"], VTT).status_code == 200
    with get_db(live.tool).begin() as session:
        assert session.scalars(
            select(EvidenceFile.id).where(EvidenceFile.id == recording["id"])
        ).one()
    refused = other_educator.http.get(
        f"{educator.base}/evidence/files/{recording['id']}/captions.vtt",
        params={"lt": other_educator.token},
        timeout=30,
    )
    assert refused.status_code == 404
    assert "Teacher" not in refused.text
