"""The files API and pages over real HTTP, inside a real launch from the development LMS:
resumable chunked uploads, every bad input refused with a message, downloads (issue 8)."""

from __future__ import annotations

import hashlib
import os
import re
from html import unescape

from app.evidence.models import Attempt
from app.evidence.storage import CHUNK_SIZE
from tests.evidence.conftest import TEXT_PART, evidence_root, file_row, set_state

PDF = b"%PDF-1.7\n" + os.urandom(2 * CHUNK_SIZE + 12345)


def error(response) -> dict:
    body = response.json()["error"]
    assert body["message"] and body["code"]
    return body


def stored_files(live) -> list[str]:
    return sorted(p.name for p in evidence_root(live).rglob("*") if p.is_file())


def test_a_file_uploaded_in_chunks_completes_with_its_sha256(educator):
    done = educator.upload("Lesson plan.pdf", PDF, CHUNK_SIZE)
    assert done["state"] == "complete"
    assert done["media_type"] == "application/pdf"
    assert done["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert educator.download(done["id"]).content == PDF


def test_an_interrupted_upload_resumes_from_what_the_server_received(educator, live):
    started = educator.start("video.pdf", len(PDF)).json()
    assert educator.put(started["id"], 0, PDF[:CHUNK_SIZE]).status_code == 200
    # The browser lost its connection (or the page was reloaded): a new session asks.
    import requests

    educator.http = requests.Session()
    status = educator.status(started["id"]).json()
    assert status["received"] == CHUNK_SIZE and status["state"] == "uploading"
    for offset in range(status["received"], len(PDF), CHUNK_SIZE):
        assert educator.put(started["id"], offset, PDF[offset : offset + CHUNK_SIZE]).ok
    done = educator.complete(started["id"]).json()
    assert done["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_a_chunk_at_the_wrong_offset_is_a_conflict_that_gives_the_offset(educator):
    file_id = educator.start("plan.pdf", len(PDF)).json()["id"]
    educator.put(file_id, 0, PDF[:CHUNK_SIZE])
    again = educator.put(file_id, 0, PDF[:CHUNK_SIZE])
    assert again.status_code == 409
    assert again.json()["received"] == CHUNK_SIZE
    assert again.headers["Upload-Offset"] == str(CHUNK_SIZE)
    assert error(again)["code"] == "offset_mismatch"
    ahead = educator.put(file_id, 2 * CHUNK_SIZE, PDF[2 * CHUNK_SIZE :])
    assert ahead.status_code == 409 and ahead.json()["received"] == CHUNK_SIZE


def test_a_chunk_larger_than_the_chunk_size_is_refused_with_413(educator):
    file_id = educator.start("plan.pdf", len(PDF)).json()["id"]
    answer = educator.put(file_id, 0, PDF[: CHUNK_SIZE + 1])
    assert answer.status_code == 413
    assert "at most 16 MB" in error(answer)["message"]
    assert educator.status(file_id).json()["received"] == 0


def test_a_chunk_of_the_wrong_length_is_refused(educator):
    file_id = educator.start("plan.pdf", len(PDF)).json()["id"]
    answer = educator.put(file_id, 0, PDF[:1000])
    assert answer.status_code == 400
    assert error(answer)["code"] == "chunk_length"


def test_a_file_over_the_limit_is_refused_before_any_byte_is_sent(educator):
    answer = educator.start("lesson.mp4", 2 * 1024**3)
    assert answer.status_code == 413
    assert error(answer)["message"] == "This file is 2 GB; the limit is 1 GB."
    just_over = educator.start("lesson.mp4", 1024**3 + 1)
    assert error(just_over)["message"] == (
        "This file is 1073741825 bytes; the limit is 1073741824 bytes."
    )


def test_an_empty_file_is_refused(educator):
    answer = educator.start("empty.pdf", 0)
    assert answer.status_code == 400
    assert "empty" in error(answer)["message"]


def test_html_named_pdf_is_refused_by_its_content_and_nothing_is_kept(educator, live):
    page = b"<!doctype html><script>alert(document.cookie)</script>"
    file_id = educator.start("lesson-plan.pdf", len(page)).json()["id"]
    answer = educator.put(file_id, 0, page)
    assert answer.status_code == 415
    body = error(answer)
    assert "web page" in body["message"] and "PDF" in body["hint"]
    assert file_row(live, file_id) is None
    assert stored_files(live) == []


def test_a_program_named_pdf_is_refused(educator):
    program = b"MZ\x90\x00" + os.urandom(100)
    file_id = educator.start("plan.pdf", len(program)).json()["id"]
    assert educator.put(file_id, 0, program).status_code == 415


def test_names_with_paths_and_control_characters_are_cleaned_and_never_stored_as_paths(
    educator, live
):
    done = educator.upload("../../../etc/\u202eevil\x07.pdf", b"%PDF-1.4 tiny", CHUNK_SIZE)
    assert done["name"] == "evil.pdf"
    stored = stored_files(live)
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}", stored[0])
    disposition = educator.download(done["id"]).headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"evil.pdf\"; filename*=UTF-8''evil.pdf"


def test_another_educators_attempt_and_files_are_not_found(educator, other_educator):
    mine = educator.upload("plan.pdf", b"%PDF-1.4 mine", CHUNK_SIZE)
    assert other_educator.start("x.pdf", 10, attempt_id=educator.attempt_id).status_code == 404
    for answer in (
        other_educator.status(mine["id"]),
        other_educator.put(mine["id"], 0, b"%PDF-1.4 x"),
        other_educator.complete(mine["id"]),
        other_educator.delete(mine["id"]),
        other_educator.download(mine["id"]),
    ):
        assert answer.status_code == 404
    assert educator.download(mine["id"]).content == b"%PDF-1.4 mine"


def test_a_submitted_attempt_refuses_every_change_with_409(educator, live):
    done = educator.upload("plan.pdf", b"%PDF-1.4 kept", CHUNK_SIZE)
    unfinished = educator.start("more.pdf", 20).json()["id"]
    set_state(live, educator.attempt_id, Attempt.SUBMITTED)
    for answer in (
        educator.start("late.pdf", 10),
        educator.put(unfinished, 0, b"%PDF-1.4 0123456789a"),
        educator.complete(unfinished),
        educator.delete(done["id"]),
    ):
        assert answer.status_code == 409
        assert error(answer)["code"] == "attempt_locked"
    assert educator.download(done["id"]).content == b"%PDF-1.4 kept"


def test_a_part_that_takes_no_files_refuses_an_upload(educator):
    answer = educator.start("plan.pdf", 10, part=TEXT_PART)
    assert answer.status_code == 400
    assert error(answer)["code"] == "part_takes_no_files"
    assert educator.start("plan.pdf", 10, part="no-such-part").status_code == 404


def test_calls_without_the_session_token_are_refused_with_401(educator):
    file_id = educator.start("plan.pdf", 10).json()["id"]
    answer = educator.http.get(
        f"{educator.base}/api/evidence/files/{file_id}", headers={"Accept": "application/json"}
    )
    assert answer.status_code == 401


def test_download_is_an_attachment_that_is_never_sniffed_or_run(educator):
    done = educator.upload('Plan d\u2019\u00e9t\u00e9 "final".pdf', b"%PDF-1.4 x", CHUNK_SIZE)
    answer = educator.download(done["id"])
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="Plan d__t_ _final_.pdf"; '
        "filename*=UTF-8''Plan%20d%E2%80%99%C3%A9t%C3%A9%20%22final%22.pdf"
    )


def test_a_byte_range_is_answered_with_206_and_only_those_bytes(educator):
    done = educator.upload("clip.pdf", PDF, CHUNK_SIZE)
    part = educator.download(done["id"], Range=f"bytes={CHUNK_SIZE - 10}-{CHUNK_SIZE + 9}")
    assert part.status_code == 206
    assert part.content == PDF[CHUNK_SIZE - 10 : CHUNK_SIZE + 10]
    assert part.headers["Content-Range"] == (f"bytes {CHUNK_SIZE - 10}-{CHUNK_SIZE + 9}/{len(PDF)}")
    assert part.headers["Accept-Ranges"] == "bytes"
    tail = educator.download(done["id"], Range="bytes=-5")
    assert tail.status_code == 206 and tail.content == PDF[-5:]


def test_an_unsatisfiable_range_is_416(educator):
    done = educator.upload("plan.pdf", b"%PDF-1.4 x", CHUNK_SIZE)
    answer = educator.download(done["id"], Range="bytes=100-200")
    assert answer.status_code == 416
    assert answer.headers["Content-Range"] == "bytes */10"


def test_cancelling_an_upload_removes_its_row_and_bytes(educator, live):
    file_id = educator.start("plan.pdf", len(PDF)).json()["id"]
    educator.put(file_id, 0, PDF[:CHUNK_SIZE])
    assert len(stored_files(live)) == 1
    assert educator.delete(file_id).status_code == 200
    assert file_row(live, file_id) is None
    assert stored_files(live) == []
    assert educator.status(file_id).status_code == 404


def test_completing_before_every_byte_arrived_is_a_conflict(educator):
    file_id = educator.start("plan.pdf", len(PDF)).json()["id"]
    educator.put(file_id, 0, PDF[:CHUNK_SIZE])
    answer = educator.complete(file_id)
    assert answer.status_code == 409 and error(answer)["code"] == "upload_incomplete"


def _files_page(educator, part: str = "artifact"):
    return educator.http.get(
        f"{educator.base}/work/attempts/{educator.attempt_id}/parts/{part}/files",
        params={"lt": educator.token},
        timeout=30,
    )


def test_the_files_page_takes_a_file_in_a_plain_form_and_lists_it(educator):
    page = _files_page(educator)
    assert page.status_code == 200
    token = unescape(re.search(r'name="lt" value="([^"]+)"', page.text).group(1))
    answer = educator.http.post(
        page.url.split("?")[0],
        data={"lt": token},
        files={"file": ("notes.txt", b"17 of 24 chose B.\n", "text/html")},
        timeout=30,
    )
    assert answer.status_code == 200 and "Your file was uploaded." in answer.text
    assert "notes.txt" in answer.text and "text/plain" in answer.text


def test_the_files_page_form_refuses_a_bad_file_with_the_reason(educator):
    page = _files_page(educator)
    token = unescape(re.search(r'name="lt" value="([^"]+)"', page.text).group(1))
    answer = educator.http.post(
        page.url.split("?")[0],
        data={"lt": token},
        files={"file": ("plan.pdf", b"<html><script>x</script></html>", "application/pdf")},
        timeout=30,
    )
    assert answer.status_code == 415
    assert "The file was not uploaded." in answer.text and "web page" in answer.text


def test_removing_from_the_files_page_asks_first_then_removes(educator, live):
    done = educator.upload("plan.pdf", b"%PDF-1.4 x", CHUNK_SIZE)
    page = _files_page(educator)
    confirm = re.search(r'href="(/work/files/\d+/remove\?lt=[^"]+)"', page.text)
    assert confirm
    question = educator.http.get(educator.base + unescape(confirm.group(1)), timeout=30)
    assert "Remove \u201cplan.pdf\u201d?" in question.text
    token = unescape(re.search(r'name="lt" value="([^"]+)"', question.text).group(1))
    answer = educator.http.post(
        f"{educator.base}/work/files/{done['id']}/remove", data={"lt": token}, timeout=30
    )
    assert answer.status_code == 200 and "The file was removed." in answer.text
    assert file_row(live, done["id"]) is None


def test_a_chunk_that_is_not_raw_bytes_or_has_no_length_is_refused(educator):
    file_id = educator.start("plan.pdf", 10).json()["id"]
    url = f"{educator.base}/api/evidence/files/{file_id}/content?offset=0"
    as_form = educator.http.put(url, data={"a": "b"}, headers=educator.headers(), timeout=30)
    assert as_form.status_code == 415 and error(as_form)["code"] == "chunk_type"
    streamed = educator.http.put(
        url,
        data=iter([b"%PDF-1.4 x"]),
        headers=educator.headers(**{"Content-Type": "application/octet-stream"}),
        timeout=30,
    )
    assert streamed.status_code == 411 and error(streamed)["code"] == "length_required"
    assert educator.status(file_id).json()["received"] == 0


def test_bytes_gone_from_the_store_are_a_404_that_says_the_file_is_no_longer_kept(educator, live):
    """The store answered and holds nothing: trying again will not help, so not a 503."""
    done = educator.upload("plan.pdf", b"%PDF-1.4 x", CHUNK_SIZE)
    for path in evidence_root(live).rglob("*"):
        if path.is_file():
            path.unlink()
    answer = educator.download(done["id"])
    assert answer.status_code == 404
    assert "no longer kept" in unescape(answer.text)
    assert "Try again in a few minutes" not in unescape(answer.text)
    as_json = educator.download(done["id"], Accept="application/json")
    assert as_json.status_code == 404 and error(as_json)["code"] == "evidence_file_not_kept"
    # A player's or a download manager's HEAD learns the same, not a 200 for bytes that are gone.
    head = educator.http.head(
        f"{educator.base}/evidence/files/{done['id']}/download",
        params={"lt": educator.token},
        timeout=30,
    )
    assert head.status_code == 404


def test_another_platforms_attempt_and_files_are_not_found(educator, live):
    """Every files route that takes an id, with another platform's ids (tests/test_tenancy)."""
    from app.db import get_db
    from app.evidence.models import EvidenceFile
    from tests.evidence.support import other_platform_attempt
    from tests.test_tenancy import TENANT_ROUTES

    registration_id, theirs = other_platform_attempt(live, educator.attempt_id)
    with get_db(live.tool).begin() as session:
        row = EvidenceFile(
            registration_id=registration_id,
            attempt_id=theirs,
            part_key="artifact",
            storage_key="0" * 32,
            name="theirs.pdf",
            media_type="application/pdf",
            size=10,
            received=10,
            state=EvidenceFile.COMPLETE,
        )
        session.add(row)
        session.flush()
        ids = {"attempt": theirs, "file": row.id}
    methods = {
        "start": "POST",
        "status": "GET",
        "chunk": "PUT",
        "complete": "POST",
        "remove": "DELETE",
        "download": "GET",
        "files_page": "GET",
        "upload_form": "POST",
        "confirm_remove": "GET",
        "remove_form": "POST",
    }
    visited = []
    for endpoint, build in TENANT_ROUTES.items():
        if not endpoint.startswith("evidence_files."):
            continue
        name = endpoint.split(".", 1)[1]
        method = methods[name]
        body = (
            {"json": {"name": "x.pdf", "size": 10}}
            if name == "start"
            else {
                "data": b"%PDF-1.4 x" if method in ("PUT", "POST") else None,
                "headers": educator.headers(**{"Content-Type": "application/octet-stream"}),
            }
        )
        response = educator.http.request(
            method,
            educator.base + build(ids),
            params={"lt": educator.token, "offset": 0},
            timeout=30,
            **({"headers": educator.headers()} | body),
        )
        assert response.status_code == 404, (endpoint, response.status_code, response.text)
        visited.append(endpoint)
    assert len(visited) == len(methods)
    kept = file_row(live, ids["file"])
    assert kept is not None and kept.state == EvidenceFile.COMPLETE


def _describe(educator, file_id: int, text: str):
    return educator.http.post(
        f"{educator.base}/work/files/{file_id}/description",
        data={"lt": educator.token, "description": text},
        timeout=30,
    )


def test_only_media_take_a_description_of_a_length_an_assessor_can_read(educator, live):
    from tests.support.images import png

    document = educator.upload("plan.pdf", b"%PDF-1.4 kept", CHUNK_SIZE)
    refused = _describe(educator, document["id"], "A plan.")
    assert refused.status_code == 400
    assert "Only an image, audio or video file takes a description." in refused.text
    image = educator.upload("board.png", png(), CHUNK_SIZE)
    too_long = _describe(educator, image["id"], "x" * 5001)
    assert too_long.status_code == 400 and "at most 5000" in too_long.text
    assert file_row(live, image["id"]).description is None
    assert _describe(educator, image["id"], "A board.").status_code == 200
    assert file_row(live, image["id"]).description == "A board."
    assert _describe(educator, image["id"], "   ").status_code == 200  # empty: removed
    assert file_row(live, image["id"]).description is None


def test_a_description_is_kept_only_by_its_educator_while_the_attempt_is_open(
    educator, other_educator, live
):
    from tests.support.images import png

    image = educator.upload("board.png", png(), CHUNK_SIZE)
    assert _describe(other_educator, image["id"], "Mine now.").status_code == 404
    set_state(live, educator.attempt_id, Attempt.SUBMITTED)
    locked = _describe(educator, image["id"], "Too late.")
    assert locked.status_code == 409
    assert file_row(live, image["id"]).description is None
