"""An educator downloads their own records from their profile page, inside the LMS's frame on
the session token alone (no cookies): their platform's records, whole, and nobody else's."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.evidence.support import LEARNER, launch
from tests.privacy.support import (
    ANSWER,
    BETA_ANSWER,
    FEEDBACK,
    OTHERS,
    OTHERS_ANSWER,
    PLAN,
    SLIDES,
    build_world,
    everything,
    read_export,
)
from tests.support.live import LiveServers
from tests.support.lms import forms, submit


@pytest.mark.parametrize("store_kind", ["local", "s3"], indirect=True)
def test_the_educator_downloads_their_records_from_their_profile(
    live: LiveServers, tmp_path: Path
) -> None:
    world = build_world(live)
    educator = launch(live, LEARNER, "Microcred: welcome")
    profile = educator.get("/profile")
    assert profile.status_code == 200
    (records_link,) = [href for href in _hrefs(profile.text) if "/my/records" in href]
    page = requests.get(urljoin(profile.url, records_link), timeout=30)
    assert page.status_code == 200, page.text[:500]
    (form,) = [f for f in forms(page.text) if f.action.endswith("/my/records/download")]

    zipped = submit(requests.Session(), page.url, form)

    assert zipped.status_code == 200, zipped.text[:500]
    assert zipped.headers["Content-Type"] == "application/zip"
    assert "attachment" in zipped.headers["Content-Disposition"]
    assert zipped.headers["Cache-Control"] == "no-store"
    out = tmp_path / "mine.zip"
    out.write_bytes(zipped.content)
    export = read_export(out)
    (person,) = export.data["people"]
    assert person["platform"]["name"] == world.devlms_platform
    assert person["profile"]["sub"] == world.sub
    (attempt,) = person["attempts"]
    paths = {f["name"]: f["path"] for f in attempt["files"]}
    assert export.entries[paths["Lesson plan, Year 7.pdf"]] == PLAN
    assert export.entries[paths["Slides.pdf"]] == SLIDES
    assert attempt["decision"]["feedback"] == FEEDBACK
    assert ANSWER in export.index
    assert [b["public_id"] for b in person["badges"]] == [world.badge]
    whole = everything(export)
    for foreign in (OTHERS, OTHERS_ANSWER.encode(), BETA_ANSWER.encode(), b"Alvarez"):
        assert foreign not in whole, foreign[:40]
    assert zipfile.is_zipfile(io.BytesIO(zipped.content))
    # The zip was built in a temporary file: none stays behind.
    assert not list(Path(tempfile.gettempdir()).glob("microcred-records-*"))


def test_the_download_needs_a_launch(live: LiveServers) -> None:
    refused = requests.post(f"{live.tool_url}/my/records/download", timeout=30)
    assert 400 <= refused.status_code < 500
    assert "Traceback" not in refused.text


def _hrefs(html: str) -> list[str]:
    import re
    from html import unescape

    return [unescape(found) for found in re.findall(r'href="([^"]+)"', html)]
