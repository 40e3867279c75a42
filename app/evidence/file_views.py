"""Evidence files over HTTP: the resumable upload API, downloads, and a part's files page.

The JSON API is for the page's script (and any scripted client); it authenticates with the
launch session token in ``Authorization: Bearer``. An upload is: ``POST …/files`` with the name
and size, ``PUT …/content?offset=N`` with each chunk's raw bytes, ``POST …/complete``. ``GET``
on the file says how many bytes arrived, so an interrupted upload resumes; ``DELETE`` cancels it
or removes the file. Each answer carries a fresh session token (``session``) so that an upload
longer than the token's idle limit keeps working.

The files page (``/work/attempts/<id>/parts/<key>/files``) lists a part's files and takes one
file in a plain form post: the control works without JavaScript, the script makes it chunked,
resumable and visible. Downloads are attachments under ``nosniff`` and a sandboxing CSP, with
byte ranges (RFC 9110 §14) so that video can be played and sought.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.datastructures import ContentRange
from werkzeug.wrappers import Response as BaseResponse

from app import inputs
from app.db import db_session
from app.errors import AppError, NotFound, error_response
from app.evidence import access, files, storage
from app.evidence.models import Attempt, EvidenceFile
from app.evidence.storage import CHUNK_SIZE, evidence_store
from app.lti import require_launch, runtime, session_token_for
from app.lti.frame_origins import nested_frame_policy
from app.lti.launch import Launch
from app.lti.session import SESSION_PARAM

log = logging.getLogger(__name__)

bp = Blueprint(
    "evidence_files",
    __name__,
    template_folder="templates",
    static_folder="static",
    # Under /evidence/files: the workspace's own blueprint may want /evidence/static.
    static_url_path="/evidence/files/static",
)

FORM_UPLOAD_MAX = 64 * 1024 * 1024
"""Largest file the page's plain form takes (without the script, nothing can resume)."""
FORM_OVERHEAD = 64 * 1024
DOWNLOAD_CSP = "default-src 'none'; sandbox"
PDF = "application/pdf"
PDF_CSP = "default-src 'none'"
"""A PDF shown in the review page's frame: Chromium's viewer refuses a sandboxed document, so
the PDF is confined by an empty policy, and framed only by the tool's pages inside a registered
platform's (``nested_frame_policy``)."""
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        PDF,
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/mp4",
        "audio/webm",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
    }
)
"""Types the review page shows in place (``?inline=1``); everything else is a download."""


@bp.app_template_filter("file_size")
def _file_size(size: int) -> str:
    return files.human_size(size)


def _max_bytes() -> int:
    return runtime().settings.upload_max_bytes


def _launch() -> Launch:
    return require_launch()


def _status(row: EvidenceFile, launch: Launch) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "size": row.size,
        "received": row.received,
        "state": row.state,
        "media_type": row.media_type,
        "sha256": row.sha256,
        "chunk_size": CHUNK_SIZE,
        "session": session_token_for(launch),
        "urls": {
            "status": url_for("evidence_files.status", file_id=row.id),
            "content": url_for("evidence_files.chunk", file_id=row.id),
            "complete": url_for("evidence_files.complete", file_id=row.id),
        },
    }
    if row.state == EvidenceFile.COMPLETE:
        body["urls"]["download"] = url_for("evidence_files.download", file_id=row.id)
    return body


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _offset() -> int:
    raw = request.args.get("offset", request.headers.get("Upload-Offset", ""))
    try:
        return inputs.whole_number("offset", raw, maximum=inputs.BIG_INTEGER_MAX)
    except inputs.BadInput:
        raise files.UploadRefused(
            "Say where this chunk starts: ?offset=N (a whole number of bytes).",
            hint="Ask the file's status for 'received' and send the chunk that starts there.",
            code="offset_missing",
        ) from None


def _read_chunk(length: int) -> bytes:
    """Read the request body, ``length`` bytes (its checked Content-Length), in large reads.

    Straight from ``wsgi.input`` — WSGI lets an application read up to the Content-Length — and
    not through ``request.get_data``, which reads 64 KiB at a time through a wrapper: each small
    read made gunicorn copy its read-ahead buffer, and the wrapper copies again; that was a third
    of an upload's CPU time. Nothing else reads this body: a chunk is never a form."""
    stream = request.environ["wsgi.input"]
    pieces: list[bytes] = []
    total = 0
    while total < length:
        piece = stream.read(length - total)
        if not piece:
            break
        pieces.append(piece)
        total += len(piece)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


@bp.errorhandler(storage.NotStored)
def _not_stored(exc: storage.NotStored) -> Response:
    # The store answered and has no bytes under the file's key (deleted, or lost with a store
    # that was not restored): no retry will bring them back, so this is not the 503 below.
    log.warning("evidence file not in the store", extra={"reason": str(exc)})
    return error_response(
        404,
        "evidence_file_not_kept",
        "This file is no longer kept",
        "Microcred no longer keeps this file's contents, so it cannot be downloaded. Its name "
        "and the rest of the evidence are still here.",
        "If it is still needed, the educator it belongs to can upload it again or share it as "
        "a link.",
    )


@bp.errorhandler(storage.StoreError)
def _store_failed(exc: storage.StoreError) -> Response:
    log.error("evidence store failed", extra={"reason": str(exc)})
    return error_response(
        503,
        "evidence_store_unavailable",
        "Files cannot be reached just now",
        "The place where Microcred keeps evidence files did not answer as expected. Nothing you "
        "uploaded before was changed.",
        "Try again in a few minutes; if it keeps happening, tell your tool administrator.",
    )


@bp.errorhandler(files.OffsetMismatch)
def _offset_mismatch(exc: files.OffsetMismatch) -> Response:
    response = error_response(exc.status, exc.code, exc.title, exc.message, exc.hint)
    if response.is_json:
        body = response.get_json()
        body["received"] = exc.received
        response.set_data(json.dumps(body))
    response.headers["Upload-Offset"] = str(exc.received)
    return response


@bp.post("/api/evidence/attempts/<int:attempt_id>/parts/<part_key>/files")
def start(attempt_id: int, part_key: str) -> Response:
    launch = _launch()
    body = inputs.json_object()
    if not isinstance(body.value("size"), int):
        raise files.UploadRefused(
            'Send JSON with the file\'s name and size, e.g. {"name": "plan.pdf", "size": 1234}.',
            code="upload_announcement",
        )
    size = body.integer("size", maximum=inputs.BIG_INTEGER_MAX)
    name = body.text("name", max_length=inputs.LONG_TEXT)
    session = db_session()
    attempt = files.open_attempt(session, launch, attempt_id)
    row = files.begin_upload(
        session,
        evidence_store(),
        attempt,
        part_key,
        name,
        size,
        _max_bytes(),
    )
    session.commit()
    return _json(_status(row, launch), 201)


@bp.get("/api/evidence/files/<int:file_id>")
def status(file_id: int) -> Response:
    launch = _launch()
    _attempt, row = files.own_file(db_session(), launch, file_id)
    return _json(_status(row, launch))


@bp.route("/api/evidence/files/<int:file_id>/content", methods=["PUT", "PATCH"])
def chunk(file_id: int) -> Response:
    request.max_content_length = CHUNK_SIZE  # a chunk, not a form: the upload's own limit
    if request.mimetype != "application/octet-stream":
        raise files.UploadRefused(
            "Send each chunk as raw bytes with Content-Type: application/octet-stream.",
            status=415,
            code="chunk_type",
        )
    if request.content_length is None:
        raise files.UploadRefused(
            "Send each chunk with its Content-Length.",
            hint="Chunks sent without a length (chunked transfer encoding) are not accepted.",
            status=411,
            code="length_required",
        )
    if request.content_length > CHUNK_SIZE:
        raise files.TooLarge(
            f"A chunk may be at most {files.human_size(CHUNK_SIZE)}; this request has "
            f"{files.human_size(request.content_length)}.",
            hint=f"Send the file in chunks of {CHUNK_SIZE} bytes.",
        )
    launch = _launch()
    offset = _offset()
    # Read the body outside any transaction: on a slow school connection a chunk takes
    # seconds to arrive, and neither a row lock nor a pooled connection should wait on it.
    session = db_session()
    session.commit()  # ends the launch check's read; the platform scope stays on the session
    data = _read_chunk(request.content_length)
    row = files.changeable_file(session, launch, file_id, for_update=True)
    files.write_chunk(session, evidence_store(), row, offset, data)
    session.commit()
    return _json(_status(row, launch))


@bp.post("/api/evidence/files/<int:file_id>/complete")
def complete(file_id: int) -> Response:
    launch = _launch()
    session = db_session()
    row = files.changeable_file(session, launch, file_id, for_update=True)
    files.complete_upload(session, evidence_store(), row)
    session.commit()
    return _json(_status(row, launch))


@bp.delete("/api/evidence/files/<int:file_id>")
def remove(file_id: int) -> Response:
    launch = _launch()
    session = db_session()
    row = files.changeable_file(session, launch, file_id, for_update=True)
    removed = files.remove(session, row)
    session.commit()
    files.forget(evidence_store(), removed)
    return _json({"id": file_id, "removed": True, "session": session_token_for(launch)})


def _disposition(name: str, *, inline: bool = False) -> str:
    """``attachment`` (or ``inline``) with an ASCII fallback name and the real one as
    ``filename*`` (RFC 6266)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.route("/evidence/files/<int:file_id>/download", methods=["GET", "HEAD"])
def download(file_id: int) -> Response:
    launch = _launch()
    row, name = files.readable_file(db_session(), launch, file_id)
    media_type = row.media_type + ("; charset=utf-8" if row.media_type.startswith("text/") else "")
    inline = request.args.get("inline") == "1" and row.media_type in INLINE_TYPES
    headers = {
        "Content-Disposition": _disposition(name, inline=inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": (
            f"{PDF_CSP}; {nested_frame_policy()}"
            if inline and row.media_type == PDF
            else DOWNLOAD_CSP
        ),
        "Cache-Control": "private, no-store",
        "Accept-Ranges": "bytes",
        "ETag": f'"{row.sha256}"',
    }
    start, end, status = 0, row.size - 1, 200
    wanted = request.range
    if wanted is not None and request.if_range.etag in (None, row.sha256):
        span = wanted.range_for_length(row.size) if len(wanted.ranges) == 1 else None
        if span is None:
            headers["Content-Range"] = f"bytes */{row.size}"
            return Response(b"", status=416, headers=headers)
        start, end, status = span[0], span[1] - 1, 206
        headers["Content-Range"] = ContentRange("bytes", span[0], span[1], row.size).to_header()
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD":
        # No bytes are read for a HEAD, so ask the store whether it still has them.
        if not evidence_store().exists(row.storage_key):
            raise storage.NotStored(f"the file {row.storage_key} is not stored")
        return Response(b"", status=status, headers=headers, mimetype=media_type)
    body = evidence_store().read(row.storage_key, start, end)
    return Response(
        body, status=status, headers=headers, mimetype=media_type, direct_passthrough=True
    )


@bp.get("/evidence/files/<int:file_id>/captions.vtt")
def captions_track(file_id: int) -> Response:
    """A recording's WebVTT captions, for the player's captions track (whoever may open the
    recording may read them; 404 when its transcript is not captions)."""
    row, _ = files.readable_file(db_session(), _launch(), file_id)
    if not row.has_captions or row.description is None:
        raise NotFound(
            "This recording has no captions.",
            hint="Its educator may give them as WebVTT in the recording's transcript field.",
        )
    return Response(
        row.description,
        mimetype="text/vtt",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": DOWNLOAD_CSP,
            "Cache-Control": "private, no-store",
        },
    )


def _page(attempt: Attempt, part_key: str, launch: Launch, **extra: Any) -> dict[str, Any]:
    session = db_session()
    part = files.file_part(attempt, part_key).as_dict()
    session_token_for(launch)
    return {
        "attempt": attempt,
        "part": part,
        "files": files.part_files(session, attempt, part_key),
        "editable": attempt.state in Attempt.OPEN and launch.can_submit,
        "launch": launch,
        **extra,
    }


@bp.get("/work/attempts/<int:attempt_id>/parts/<part_key>/files")
def files_page(attempt_id: int, part_key: str) -> str:
    launch = _launch()
    attempt = access.own_attempt(db_session(), launch, attempt_id)
    done = request.args.get("done")
    return render_template(
        "evidence/files.html",
        **_page(attempt, part_key, launch, done=done if done in {"added", "removed"} else None),
    )


@bp.post("/work/attempts/<int:attempt_id>/parts/<part_key>/files")
def upload_form(attempt_id: int, part_key: str) -> BaseResponse | tuple[str, int]:
    if request.content_length is not None and request.content_length > FORM_UPLOAD_MAX:
        # The session token is in the body we refuse to read: answer without the launch.
        raise files.TooLarge(
            f"This form takes files up to {files.human_size(FORM_UPLOAD_MAX)}.",
            hint="Turn on JavaScript for larger files (they upload in resumable chunks), or "
            "share the file as a link.",
        )
    request.max_content_length = FORM_UPLOAD_MAX + FORM_OVERHEAD
    launch = _launch()
    session = db_session()
    attempt = files.open_attempt(session, launch, attempt_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template(
            "evidence/files.html",
            **_page(attempt, part_key, launch, error="Choose a file to upload."),
        ), 400
    stream = upload.stream
    size = stream.seek(0, 2)
    stream.seek(0)
    try:
        files.upload_whole(
            session,
            evidence_store(),
            attempt,
            part_key,
            upload.filename,
            stream,
            size,
            _max_bytes(),
        )
    except AppError as exc:
        session.rollback()
        return render_template(
            "evidence/files.html", **_page(attempt, part_key, launch, error=exc.message)
        ), exc.status
    session.commit()
    return _back(attempt_id, part_key, launch, "added")


def _back(attempt_id: int, part_key: str, launch: Launch, done: str) -> BaseResponse:
    values: dict[str, Any] = {SESSION_PARAM: session_token_for(launch), "done": done}
    target = url_for(
        "evidence_files.files_page", attempt_id=attempt_id, part_key=part_key, **values
    )
    return redirect(target, 303)


@bp.get("/work/files/<int:file_id>/remove")
def confirm_remove(file_id: int) -> str:
    launch = _launch()
    session = db_session()
    row = files.changeable_file(session, launch, file_id)
    attempt = access.own_attempt(session, launch, row.attempt_id)
    return render_template("evidence/remove.html", **_page(attempt, row.part_key, launch, file=row))


@bp.post("/work/files/<int:file_id>/remove")
def remove_form(file_id: int) -> BaseResponse:
    launch = _launch()
    session = db_session()
    row = files.changeable_file(session, launch, file_id, for_update=True)
    attempt_id, part_key = row.attempt_id, row.part_key
    removed = files.remove(session, row)
    session.commit()
    files.forget(evidence_store(), removed)
    return _back(attempt_id, part_key, launch, "removed")


@bp.post("/work/files/<int:file_id>/description")
def describe_form(file_id: int) -> BaseResponse:
    """Keep a description or transcript of an image, audio or video file; back to the file
    on the workspace."""
    launch = _launch()
    session = db_session()
    row = files.changeable_file(session, launch, file_id, for_update=True)
    text = inputs.form().text("description", max_length=inputs.LONG_TEXT)
    files.describe(row, text)
    attempt = session.get_one(Attempt, row.attempt_id)
    slug = attempt.credential.slug
    session.commit()
    values: dict[str, Any] = {SESSION_PARAM: session_token_for(launch), "described": file_id}
    target = url_for("evidence.workspace", slug=slug, **values)
    return redirect(f"{target}#file-{file_id}", 303)
