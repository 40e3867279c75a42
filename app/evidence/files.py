"""Evidence files: resumable uploads in chunks, removal, downloads' access rule, the sweeper.

An upload is announced (name and size), then sent in ``CHUNK_SIZE`` chunks, each quoting the
offset it starts at, which must be what the server has received so far: after a network error or
a reload the browser asks how much arrived and continues from there. The first chunk decides the
file's type by its content (``sniffing``). Completing stores the SHA-256 of the stored bytes.

The SHA-256 is computed once, at completion, by reading the stored file back, rather than
carried from chunk to chunk: ``hashlib`` cannot save a hash's running state, so an incremental
hash would have to live in one process's memory and be lost by a restart or another worker,
which is exactly when uploads resume. Reading back costs one sequential read of the file and
also proves that what the store holds is what the educator will download.

Rows may share a storage key (files carried over to a later attempt); the bytes are deleted only
when the last row using them goes. Services change the session and leave the commit to the
caller, and the bytes of a removed file are deleted only after that commit (``forget``), so a
failed commit never leaves a row pointing at nothing. Two exceptions commit themselves: a first
chunk refused for its type drops its upload at once (the request then fails, and its rollback
must not bring the row back), and the sweeper commits file by file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import AppError, Conflict, Forbidden, NotFound
from app.evidence import access, captions, sniffing
from app.evidence.models import Attempt, EvidenceFile
from app.evidence.services import Part, part_of
from app.evidence.sniffing import FileRejected
from app.evidence.storage import CHUNK_SIZE, EvidenceStore, new_key
from app.grading import services as grading
from app.lti.launch import Launch
from app.tenancy import ALL_PLATFORMS

SWEEP_AFTER = timedelta(hours=48)


class UploadRefused(AppError):
    code = "upload_refused"
    title = "This upload cannot be accepted"


class TooLarge(AppError):
    status = 413
    code = "too_large"
    title = "Too large"


class OffsetMismatch(Conflict):
    """A chunk that does not start where the upload stands; carries where it does."""

    code = "offset_mismatch"
    title = "The upload continues elsewhere"

    def __init__(self, received: int) -> None:
        super().__init__(
            f"The server has {received} bytes of this file; the next chunk must start there.",
            hint="Resume the upload from the offset given in 'received'.",
        )
        self.received = received


@dataclass(frozen=True)
class Removed:
    """What to do with the store once the removal is committed."""

    key: str
    upload: dict[str, Any] | None
    """An unfinished upload to abort, or ``None`` for complete bytes to delete."""


def human_size(size: int) -> str:
    """Return ``size`` bytes as people read it (1.5 MB, 1 GB)."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            shown = f"{value:.0f}" if value >= 10 else f"{value:.1f}".removesuffix(".0")
            return f"{shown} {unit}"
    return f"{size} bytes"


def file_part(attempt: Attempt, part_key: str) -> Part:
    """The part ``part_key`` of the attempt's version, if it takes files; else refuse."""
    part = part_of(attempt.version, part_key)
    if not part.accepts("file"):
        raise UploadRefused(
            f"The part \u201c{part.title}\u201d does not take files.",
            hint="Give this part's evidence as its page asks (text or a link).",
            code="part_takes_no_files",
        )
    return part


def open_attempt(session: Session, launch: Launch, attempt_id: int) -> Attempt:
    """The educator's own attempt, still a draft (404 if not theirs, 409 if locked)."""
    attempt = access.own_attempt(session, launch, attempt_id)
    access.require_open(attempt)
    return attempt


def own_file(
    session: Session, launch: Launch, file_id: int, *, for_update: bool = False
) -> tuple[Attempt, EvidenceFile]:
    """The educator's file ``file_id`` and its attempt (404 if not theirs)."""
    query = select(EvidenceFile).where(EvidenceFile.id == file_id)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise NotFound(
            "There is no file of yours at this address.",
            hint="It may have been removed. Reload the page to see your files.",
        )
    return access.own_attempt(session, launch, found.attempt_id), found


MAX_DESCRIPTION = 5000
"""Characters of a file's description or transcript: a few minutes of speech."""
DESCRIBED_KINDS = ("image/", "audio/", "video/")
CAPTIONED_KINDS = ("audio/", "video/")
"""A recording's transcript may be WebVTT captions (``captions``)."""


def describable(row: EvidenceFile) -> bool:
    """Whether a file is one an assessor may not be able to see or hear."""
    return row.media_type.startswith(DESCRIBED_KINDS)


def describe(row: EvidenceFile, text: str) -> None:
    """Keep the educator's description or transcript of an image, audio or video file (an
    empty text removes it)."""
    if not describable(row):
        raise AppError(
            "Only an image, audio or video file takes a description.",
            hint="A document's text is already readable.",
            status=400,
        )
    text = text.strip()
    if row.media_type.startswith(CAPTIONED_KINDS) and captions.is_webvtt(text):
        if len(text) > captions.MAX_CAPTIONS:
            raise AppError(
                f"The captions are {len(text)} characters long; they may be at most "
                f"{captions.MAX_CAPTIONS}.",
                hint="Split the recording, or upload the captions as a document.",
                status=400,
            )
        captions.parse(text)  # refused here, naming the line, rather than in a player
    elif len(text) > MAX_DESCRIPTION:
        raise AppError(
            f"The description is {len(text)} characters long; it may be at most {MAX_DESCRIPTION}.",
            hint="Shorten it, upload a longer transcript as a document, or give it as WebVTT "
            "captions (their first line is WEBVTT).",
            status=400,
        )
    row.description = text or None


def changeable_file(
    session: Session, launch: Launch, file_id: int, *, for_update: bool = False
) -> EvidenceFile:
    """The educator's file in a draft attempt (404 if not theirs, 409 if the attempt is locked)."""
    attempt, found = own_file(session, launch, file_id, for_update=for_update)
    access.require_open(attempt)
    return found


def begin_upload(
    session: Session,
    store: EvidenceStore,
    attempt: Attempt,
    part_key: str,
    name: str | None,
    size: int,
    max_bytes: int,
) -> EvidenceFile:
    """Announce a file of ``size`` bytes for a part of a draft attempt; return its row."""
    file_part(attempt, part_key)
    if size <= 0:
        raise UploadRefused(
            "This file is empty (0 bytes), so there is nothing to upload.",
            hint="Check that you chose the right file, or save it again from its program.",
            code="empty_file",
        )
    if size > max_bytes:
        shown, limit = human_size(size), human_size(max_bytes)
        if shown == limit:  # rounded alike: only the exact figures show the difference
            shown, limit = f"{size} bytes", f"{max_bytes} bytes"
        raise TooLarge(
            f"This file is {shown}; the limit is {limit}.",
            hint="Shorten or compress the video, or export the document at a lower "
            "resolution, then upload it again; or share it as a link.",
        )
    key = new_key()
    row = EvidenceFile(
        registration_id=attempt.registration_id,
        attempt_id=attempt.id,
        part_key=part_key,
        storage_key=key,
        name=sniffing.clean_name(name),
        size=size,
        received=0,
        state=EvidenceFile.UPLOADING,
        upload=store.begin(key),
    )
    session.add(row)
    session.flush()
    return row


def expected_length(row: EvidenceFile, offset: int) -> int:
    """How long the chunk starting at ``offset`` must be."""
    return min(CHUNK_SIZE, row.size - offset)


def write_chunk(
    session: Session, store: EvidenceStore, row: EvidenceFile, offset: int, data: bytes
) -> EvidenceFile:
    """Store the chunk that starts at ``offset``; it must continue the upload exactly."""
    if row.state != EvidenceFile.UPLOADING:
        raise Conflict(
            "This file has already been uploaded completely.",
            hint="Nothing more is needed; reload the page to see it in your list.",
            code="upload_complete",
        )
    if offset != row.received:
        raise OffsetMismatch(row.received)
    if len(data) > CHUNK_SIZE:
        raise TooLarge(
            f"A chunk may be at most {human_size(CHUNK_SIZE)}.",
            hint=f"Send the file in chunks of {CHUNK_SIZE} bytes.",
        )
    expected = expected_length(row, offset)
    if len(data) != expected:
        raise UploadRefused(
            f"This chunk has {len(data)} bytes; the one starting at byte {offset} must have "
            f"{expected}.",
            hint=f"Send chunks of exactly {CHUNK_SIZE} bytes (the last one: what remains). "
            "If the file changed since the upload began, cancel and upload it again.",
            code="chunk_length",
        )
    if offset == 0:
        try:
            kind = sniffing.sniff(data, whole=len(data) == row.size)
        except FileRejected:
            _discard(session, store, row)
            raise
        row.media_type = sniffing.text_type_for(row.name) if sniffing.is_text(kind) else kind
    upload = store.write(row.storage_key, dict(row.upload or {}), offset, data)
    row.upload = upload  # a new dict: the JSON column sees the change
    row.received = offset + len(data)
    session.flush()
    return row


def complete_upload(session: Session, store: EvidenceStore, row: EvidenceFile) -> EvidenceFile:
    """Make a fully received upload a file of the attempt, with its SHA-256."""
    if row.state == EvidenceFile.COMPLETE:
        return row
    if row.received != row.size:
        raise Conflict(
            f"Only {row.received} of {row.size} bytes have arrived.",
            hint="Send the remaining chunks, starting at byte 'received', then complete again.",
            code="upload_incomplete",
        )
    if not store.exists(row.storage_key):  # a retried completion finds it done already
        store.complete(row.storage_key, dict(row.upload or {}))
    digest = hashlib.sha256()
    for block in store.read(row.storage_key):
        digest.update(block)
    row.sha256 = digest.hexdigest()
    row.state = EvidenceFile.COMPLETE
    row.upload = None
    row.completed_at = utcnow()
    _touch(session, row.attempt_id)
    session.flush()
    return row


def remove(session: Session, row: EvidenceFile) -> Removed | None:
    """Remove a file or an unfinished upload from its attempt.

    Return what the store must forget once this is committed (``None`` when another row still
    uses the bytes)."""
    removed: Removed | None
    if row.state == EvidenceFile.UPLOADING:
        removed = Removed(row.storage_key, dict(row.upload or {}))
    else:
        removed = Removed(row.storage_key, None)
        _touch(session, row.attempt_id)
    session.delete(row)
    session.flush()
    if removed.upload is None and key_in_use(session, removed.key):
        return None
    return removed


def forget(store: EvidenceStore, removed: Removed | None) -> None:
    """Delete from the store what a committed removal left without a row."""
    if removed is None:
        return
    if removed.upload is not None:
        store.abort(removed.key, removed.upload)
    else:
        store.delete(removed.key)


def key_in_use(session: Session, key: str) -> bool:
    """Tell whether any file row, on any platform, still uses the storage key."""
    count = session.scalar(
        select(func.count())
        .select_from(EvidenceFile)
        .where(EvidenceFile.storage_key == key)
        .execution_options(**{ALL_PLATFORMS: True})
    )
    return bool(count)


@dataclass(frozen=True)
class StoredObject:
    """The bytes of one storage key and the complete files that use them."""

    key: str
    size: int
    sha256: str | None
    """As computed when the upload completed, from the stored bytes."""
    file_ids: tuple[int, ...]


def stored_objects(session: Session) -> list[StoredObject]:
    """Every object the complete files of the database use, once per key, on every platform.

    What a backup copies from the store (``app.backup``). Rows share a key when a file is
    carried over to a later attempt; an unfinished upload is not a file yet."""
    found = session.execute(
        select(EvidenceFile.storage_key, EvidenceFile.size, EvidenceFile.sha256, EvidenceFile.id)
        .where(EvidenceFile.state == EvidenceFile.COMPLETE)
        .order_by(EvidenceFile.storage_key, EvidenceFile.id)
        .execution_options(**{ALL_PLATFORMS: True})
    ).all()
    objects: list[StoredObject] = []
    for key, size, sha256, file_id in found:
        if objects and objects[-1].key == key:
            last = objects[-1]
            objects[-1] = StoredObject(key, last.size, last.sha256, (*last.file_ids, file_id))
        else:
            objects.append(StoredObject(key, size, sha256, (file_id,)))
    return objects


def unfinished_uploads(session: Session) -> int:
    """How many uploads, on every platform, have begun and not completed."""
    count = session.scalar(
        select(func.count())
        .select_from(EvidenceFile)
        .where(EvidenceFile.state == EvidenceFile.UPLOADING)
        .execution_options(**{ALL_PLATFORMS: True})
    )
    return int(count or 0)


def readable_file(session: Session, launch: Launch, file_id: int) -> tuple[EvidenceFile, str]:
    """A complete file the launching person may download, and the name to give it; or 404.

    The attempt's educator may; so may anyone who may review the attempt (app/grading), from
    whichever platform — and in blind review the file's name, which may carry the educator's,
    is replaced by a neutral one."""
    found = session.get(EvidenceFile, file_id, execution_options={ALL_PLATFORMS: True})
    name = _readable_name(session, launch, found) if found is not None else None
    if found is None or found.state != EvidenceFile.COMPLETE or name is None:
        raise NotFound(
            "There is no file you may open at this address.",
            hint="It may have been removed. Open the work's page again from your course.",
        )
    return found, name


def _readable_name(session: Session, launch: Launch, row: EvidenceFile) -> str | None:
    if row.registration_id == launch.registration_id:
        try:
            access.own_attempt(session, launch, row.attempt_id)
        except (NotFound, Forbidden):
            pass
        else:
            return row.name
    try:
        reviewer = grading.reviewer_of(session, launch)
        found = grading.target(session, reviewer, row.attempt_id)
    except (NotFound, Forbidden):
        return None
    return blind_name(row) if found.settings.blind else row.name


def blind_name(row: EvidenceFile) -> str:
    """A file's name for a blind reviewer: its number and its type, nothing the educator chose."""
    extension = PurePosixPath(row.name).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", extension):
        extension = ""
    return f"evidence-{row.id}{extension}"


def sweep(session: Session, store: EvidenceStore, older_than: timedelta = SWEEP_AFTER) -> list[str]:
    """Abort uploads begun more than ``older_than`` ago and never completed; commit each.

    Return the storage keys swept."""
    cutoff = utcnow() - older_than
    stale = session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.state == EvidenceFile.UPLOADING, EvidenceFile.created_at < cutoff)
        .order_by(EvidenceFile.id)
        .execution_options(**{ALL_PLATFORMS: True})
    ).all()
    swept = []
    for row in stale:
        removed = remove(session, row)
        session.commit()
        forget(store, removed)
        swept.append(row.storage_key)
    return swept


def _discard(session: Session, store: EvidenceStore, row: EvidenceFile) -> None:
    """Drop a refused upload at once: its row is deleted and its bytes forgotten."""
    removed = remove(session, row)
    session.commit()
    forget(store, removed)


def _touch(session: Session, attempt_id: int) -> None:
    attempt = session.get(Attempt, attempt_id)
    if attempt is not None:
        attempt.updated_at = utcnow()


def part_files(session: Session, attempt: Attempt, part_key: str) -> list[EvidenceFile]:
    """The files of one part of an attempt, complete and unfinished, oldest first."""
    return list(
        session.scalars(
            select(EvidenceFile)
            .where(EvidenceFile.attempt_id == attempt.id, EvidenceFile.part_key == part_key)
            .order_by(EvidenceFile.created_at, EvidenceFile.id)
        )
    )


def upload_whole(
    session: Session,
    store: EvidenceStore,
    attempt: Attempt,
    part_key: str,
    name: str | None,
    stream: Any,
    size: int,
    max_bytes: int,
) -> EvidenceFile:
    """Upload a file received in one request (the page's form without JavaScript)."""
    row = begin_upload(session, store, attempt, part_key, name, size, max_bytes)
    offset = 0
    while offset < size:
        data = stream.read(expected_length(row, offset))
        if not data:
            break
        write_chunk(session, store, row, offset, data)
        offset += len(data)
    return complete_upload(session, store, row)
