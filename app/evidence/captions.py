"""Captions for a recording, in WebVTT (issue 28 item 15; WCAG 1.2.2 Captions, Prerecorded).

An educator's transcript of an audio or video file may be WebVTT — what Zoom, Teams, YouTube
and most captioning tools export — recognised by its first line, ``WEBVTT``. Then the review
page gives the video a captions track, and shows the cues' text, without their timings, as the
transcript. The text is checked here before it is kept, so that an assessor's player never meets
a file it cannot read: the header, each cue's timing line (``00:01.000 --> 00:04.500``, hours
optional, end not before start) and a cue's text; ``NOTE``, ``STYLE`` and ``REGION`` blocks are
allowed and skipped (W3C WebVTT, sections 4.1 to 4.4). A refusal names the line to correct.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from app.errors import AppError

MAX_CAPTIONS = 200_000
"""Characters of WebVTT captions: about an hour and a half of speech with its timings."""

_HEADER = re.compile(r"^WEBVTT(?:[ \t].*)?$")
_TIME = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING = re.compile(rf"^{_TIME}[ \t]+-->[ \t]+{_TIME}(?:[ \t].*)?$")
_TAG = re.compile(r"<[^>]*>")
_SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")


class CaptionsInvalid(AppError):
    code = "captions_invalid"
    title = "These captions cannot be read"

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(
            f"The captions (WebVTT) have a problem on line {line}: {problem}",
            hint="Correct that line, or export the captions again from the tool that made "
            "them. To keep a plain transcript instead, remove the first line, WEBVTT.",
            status=400,
        )


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def is_webvtt(text: str) -> bool:
    """Whether a transcript is meant as WebVTT captions (its first line says so)."""
    return text.lstrip("\ufeff").startswith("WEBVTT")


def _seconds(hours: str | None, minutes: str, seconds: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis) / 1000


def parse(text: str) -> list[Cue]:
    """The cues of WebVTT ``text``, or ``CaptionsInvalid`` naming the first line in error."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not _HEADER.match(lines[0]):
        raise CaptionsInvalid(1, "the first line must be WEBVTT, alone or followed by a space.")
    cues: list[Cue] = []
    number = 1
    # Blocks are separated by blank lines; the header's block may go on (metadata) until one.
    while number < len(lines) and lines[number].strip():
        number += 1
    while number < len(lines):
        while number < len(lines) and not lines[number].strip():
            number += 1
        if number >= len(lines):
            break
        block_start = number
        block: list[str] = []
        while number < len(lines) and lines[number].strip():
            block.append(lines[number])
            number += 1
        if block[0].split(" ")[0].split("\t")[0] in _SKIPPED_BLOCKS:
            continue
        timing_at = 0 if "-->" in block[0] else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise CaptionsInvalid(
                block_start + timing_at + 1,
                "a cue's timing line is missing (like 00:01.000 --> 00:04.000).",
            )
        found = _TIMING.match(block[timing_at].strip())
        if found is None:
            raise CaptionsInvalid(
                block_start + timing_at + 1,
                f"“{block[timing_at].strip()[:60]}” is not a timing like 00:01.000 --> 00:04.000.",
            )
        start = _seconds(*found.groups()[:4])
        end = _seconds(*found.groups()[4:])
        if end < start:
            raise CaptionsInvalid(block_start + timing_at + 1, "the cue ends before it starts.")
        payload = block[timing_at + 1 :]
        if not payload:
            raise CaptionsInvalid(block_start + timing_at + 2, "the cue has no text.")
        cue_text = html.unescape(" ".join(_TAG.sub("", line).strip() for line in payload)).strip()
        cues.append(Cue(start, end, cue_text))
    if not cues:
        raise CaptionsInvalid(len(lines), "there are no cues: no timed text follows WEBVTT.")
    return cues


def transcript(text: str) -> str:
    """What the captions say, without timings, one cue after another (for reading)."""
    return "\n".join(cue.text for cue in parse(text) if cue.text)
