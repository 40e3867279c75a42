"""Making, checking and restoring a backup (the package's docstring says what a backup holds
and why its two halves agree).

Each step takes what it works on as arguments — a database URL, an evidence store, the secret
key — so that the commands (``app.backup.cli``) and the tests build them the same way. Making a
backup is three steps that ``create`` runs in turn: ``snapshot`` (the database as of one moment,
with the list of objects it refers to), ``copy_evidence`` (those objects, streamed from the
store) and ``finish`` (the manifest, written last).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app.backup import databases
from app.backup.manifest import (
    EVIDENCE,
    LOST,
    REMOVED,
    Absent,
    BackupError,
    Changed,
    DatabaseCopy,
    Manifest,
    StoredCopy,
    digest,
    object_path,
    read_manifest,
    sync_file,
    sync_folder,
    write_manifest,
)
from app.evidence import files
from app.evidence.storage import EvidenceStore, NotStored, StoreError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

FINGERPRINT_CONTEXT = b"microcred backup: the secret that encrypts the keys in the database"


def secret_fingerprint(secret_key: str) -> str:
    """Name the secret key without revealing it: an HMAC of a fixed text, keyed by the secret.

    The tool's LTI keys and the issuers' badge keys are rows of the database, encrypted with a
    key derived from ``MICROCRED_SECRET_KEY``; restored under another secret they cannot sign.
    The fingerprint lets a restore say so before it starts."""
    return hmac.new(secret_key.encode(), FINGERPRINT_CONTEXT, hashlib.sha256).hexdigest()[:32]


def tool_version() -> str:
    try:
        return version("microcred")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout never installed
        return "unknown"


def _scripts() -> ScriptDirectory:
    # Imported when a restore needs it, not when the app starts: every process would pay for
    # Alembic's import (and log its plugins) for the sake of one command.
    from alembic import script

    import migrations

    return script.ScriptDirectory(str(Path(migrations.__file__).parent))


def head_revision() -> str | None:
    """The latest revision this version's migrations know (what ``flask db upgrade`` reaches)."""
    head: str | None = _scripts().get_current_head()
    return head


def known_revision(revision: str) -> bool:
    """Tell whether this version's migrations know ``revision`` (and so can upgrade from it)."""
    from alembic.util import CommandError

    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


# --- Making a backup --------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """The database's snapshot and what it refers to in the store."""

    snapshot: databases.Snapshot
    objects: list[files.StoredObject]
    unfinished_uploads: int


@dataclass(frozen=True)
class Copied:
    copies: list[StoredCopy]
    absent: list[Absent]
    changed: list[Changed]


def prepare(folder: Path) -> bool:
    """Make sure ``folder`` is new or empty, and make it; return whether it was made."""
    if folder.exists() and not folder.is_dir():
        raise BackupError(
            f"{folder} is a file, not a folder.",
            hint="Give a new folder for the backup, e.g. /var/backups/microcred/$(date +%F).",
        )
    if folder.is_dir() and any(folder.iterdir()):
        raise BackupError(
            f"The folder {folder} already holds files; a backup goes into a folder of its own.",
            hint="Give a new (or empty) folder, e.g. one named after today's date; delete the "
            "old one first if you meant to replace it.",
        )
    made = not folder.exists()
    try:
        # Personal data and encrypted keys: readable by this user only (a folder given empty
        # keeps the permissions its owner chose).
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"The folder {folder} cannot be made: {exc.strerror}.",
            hint="Choose a folder this user may write to, on a disk with room for the backup.",
        ) from None
    return made


def snapshot(database_url: str, folder: Path) -> Taken:
    """Copy the database into ``folder`` as of one moment, and list the objects it refers to."""

    def read(session: Session) -> tuple[list[files.StoredObject], int]:
        return files.stored_objects(session), files.unfinished_uploads(session)

    taken, (objects, unfinished) = databases.take(database_url, folder, read)
    return Taken(taken, objects, unfinished)


def copy_evidence(
    taken: Taken, store: EvidenceStore, folder: Path, still_used: Callable[[str], bool]
) -> Copied:
    """Copy every object the snapshot refers to, a block at a time, hashing as it goes.

    ``still_used(key)`` asks the live database whether a file still uses ``key``: an object
    gone from the store is then lost (a problem), else its files were removed after the
    snapshot (expected while the tool runs)."""
    copies: list[StoredCopy] = []
    absent: list[Absent] = []
    changed: list[Changed] = []
    for wanted in taken.objects:
        try:
            size, sha256 = _copy_out(store, wanted.key, object_path(folder, wanted.key))
        except NotStored:
            reason = LOST if still_used(wanted.key) else REMOVED
            absent.append(Absent(wanted.key, list(wanted.file_ids), reason))
            continue
        except StoreError as exc:
            raise BackupError(
                f"The evidence store failed while the object {wanted.key} was copied: {exc}.",
                hint="Check that the store answers (flask's /healthz/ready says), then make the "
                "backup again into a new folder.",
            ) from None
        copies.append(StoredCopy(wanted.key, size, sha256))
        if sha256 != wanted.sha256:
            changed.append(Changed(wanted.key, list(wanted.file_ids), wanted.sha256, sha256))
    return Copied(copies, absent, changed)


def _copy_out(store: EvidenceStore, key: str, target: Path) -> tuple[int, str]:
    blocks = store.read(key)  # raises NotStored before anything is written
    target.parent.mkdir(parents=True, exist_ok=True)
    found = hashlib.sha256()
    size = 0
    with target.open("wb") as handle:
        for block in blocks:
            handle.write(block)
            found.update(block)
            size += len(block)
        handle.flush()
        os.fsync(handle.fileno())
    return size, found.hexdigest()


def finish(
    folder: Path, taken: Taken, copied: Copied, *, secret_key: str, store_label: str
) -> Manifest:
    """Write the manifest, last, once everything it lists is on disk."""
    size, sha256 = digest(taken.snapshot.path)
    manifest = Manifest(
        tool_version=tool_version(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        secret_fingerprint=secret_fingerprint(secret_key),
        database=DatabaseCopy(
            kind=taken.snapshot.kind,
            file=taken.snapshot.path.name,
            size=size,
            sha256=sha256,
            revision=taken.snapshot.revision,
            rows=taken.snapshot.rows,
        ),
        store=store_label,
        objects=copied.copies,
        absent=copied.absent,
        changed=copied.changed,
        unfinished_uploads=taken.unfinished_uploads,
    )
    # Everything durable before the manifest says the backup is whole: the objects were synced
    # as they were written, the database copy and every folder's names are now.
    sync_file(taken.snapshot.path)
    for directory in sorted(path for path in folder.rglob("*") if path.is_dir()):
        sync_folder(directory)
    write_manifest(folder, manifest)
    return manifest


def create(
    folder: Path,
    *,
    database_url: str,
    store: EvidenceStore,
    still_used: Callable[[str], bool],
    secret_key: str,
    store_label: str,
) -> Manifest:
    """Make a backup into ``folder`` (new or empty); on failure leave nothing half-made."""
    databases.kind_of(database_url)  # refuse an unknown kind before making the folder
    made = prepare(folder)
    try:
        taken = snapshot(database_url, folder)
        copied = copy_evidence(taken, store, folder, still_used)
        return finish(folder, taken, copied, secret_key=secret_key, store_label=store_label)
    except BaseException:
        _clear(folder, made)
        raise


def _clear(folder: Path, made: bool) -> None:
    if made:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


# --- Checking a backup ------------------------------------------------------------------------


@dataclass
class Report:
    manifest: Manifest
    problems: list[str]
    """What makes the backup unfit to restore, each with the file it concerns."""
    notes: list[str]
    """What a person should know and need not fix (recorded when the backup was made)."""


def verify(folder: Path) -> Report:
    """Check every file the manifest lists against its size and SHA-256 (reading them all)."""
    manifest = read_manifest(folder)
    problems = _check_files(folder, manifest, hashes=True)
    notes = recorded_notes(manifest)
    listed = {copy.key for copy in manifest.objects}
    extra = sorted(
        path.relative_to(folder).as_posix()
        for path in (folder / EVIDENCE).rglob("*")
        if path.is_file() and path.name not in listed
    )
    if extra:
        notes.append(
            f"{len(extra)} file(s) under {EVIDENCE}/ are not in the manifest and would not be "
            f"restored (e.g. {extra[0]}): something other than 'flask backup create' put them "
            "there."
        )
    return Report(manifest, problems, notes)


def _check_files(folder: Path, manifest: Manifest, *, hashes: bool) -> list[str]:
    """Problems with the listed files: missing, another size, or (with ``hashes``) changed."""
    entries = [(folder / manifest.database.file, manifest.database.size, manifest.database.sha256)]
    entries += [(object_path(folder, c.key), c.size, c.sha256) for c in manifest.objects]
    problems = []
    for path, size, sha256 in entries:
        shown = path.relative_to(folder).as_posix()
        if not path.is_file():
            problems.append(f"{shown} is missing.")
        elif path.stat().st_size != size:
            problems.append(
                f"{shown} has {path.stat().st_size} bytes; the manifest says {size} (it was cut "
                "short or changed after the backup)."
            )
        elif hashes and digest(path)[1] != sha256:
            problems.append(
                f"{shown} does not have the SHA-256 the manifest records: its bytes changed "
                "after the backup."
            )
    return problems


def recorded_notes(manifest: Manifest) -> list[str]:
    """What the backup recorded when it was made: absent and changed objects, unfinished
    uploads."""
    notes = []
    removed = [entry for entry in manifest.absent if entry.reason == REMOVED]
    lost = [entry for entry in manifest.absent if entry.reason == LOST]
    if removed:
        notes.append(
            f"{_files(removed)} had been removed (with their bytes) after the snapshot and before "
            "their bytes were copied: the restored database lists them without bytes, as "
            "they were a moment before their removal."
        )
    if lost:
        notes.append(
            f"{_files(lost)} had no bytes in the store when the backup was made, though the "
            "tool still used them: those bytes were lost from the store before the backup."
        )
    if manifest.changed:
        notes.append(
            f"{_files(manifest.changed)} had bytes in the store that differ from what was "
            "uploaded (another SHA-256): the backup holds them as the store had them."
        )
    if manifest.unfinished_uploads:
        notes.append(
            f"{manifest.unfinished_uploads} upload(s) had begun and not finished: they are not "
            "in the backup (their educators upload them again; 'flask evidence sweep' clears "
            "their rows)."
        )
    return notes


def _files(entries: list[Absent] | list[Changed]) -> str:
    ids = sorted(file_id for entry in entries for file_id in entry.file_ids)
    shown = ", ".join(str(file_id) for file_id in ids[:10]) + (", …" if len(ids) > 10 else "")
    return f"{len(ids)} evidence file(s) (id {shown})"


# --- Restoring a backup -----------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    rows: int
    tables: int
    objects: int
    bytes: int


def check_restorable(
    folder: Path,
    *,
    database_url: str,
    secret_key: str,
    known_revision: Callable[[str], bool],
    other_secret: bool,
) -> Manifest:
    """Everything that can refuse a restore without touching the database or the store."""
    manifest = read_manifest(folder)
    kind = databases.kind_of(database_url)
    if manifest.database.kind != kind:
        backed_up = databases.kind_name(manifest.database.kind)
        raise BackupError(
            f"This backup holds a {backed_up} database; MICROCRED_DATABASE_URL points at "
            f"{databases.kind_name(kind)}. A backup is restored into the kind it was made from.",
            hint=f"Set MICROCRED_DATABASE_URL to an empty {backed_up} database and run the "
            "restore again (moving between SQLite and PostgreSQL is not something a backup does).",
        )
    revision = manifest.database.revision
    if revision is not None and not known_revision(revision):
        raise BackupError(
            f"This backup's database is at revision {revision}, which this version of "
            f"Microcred does not know (the backup was made by version {manifest.tool_version}).",
            hint="Restore it with that version of Microcred or a newer one.",
        )
    if manifest.secret_fingerprint != secret_fingerprint(secret_key) and not other_secret:
        raise BackupError(
            "This backup was made by a tool with another MICROCRED_SECRET_KEY. The tool's LTI "
            "keys and the issuers' badge keys in it are encrypted with that secret: under this "
            "one they cannot sign (launches and new badges would fail).",
            hint="Set MICROCRED_SECRET_KEY to the secret of the deployment that was backed up and "
            "run the restore again; or pass --other-secret-key to restore anyway, then rotate "
            "every key ('flask keys rotate --overlap 0 --retain 0', 'flask badges rotate-key').",
        )
    problems = _check_files(folder, manifest, hashes=False)
    if problems:
        raise BackupError(
            f"This backup is incomplete: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            hint=f"Run 'flask backup verify {folder}' for the full list, and restore another "
            "backup.",
        )
    return manifest


def restore(
    folder: Path,
    manifest: Manifest,
    *,
    database_url: str,
    store: EvidenceStore,
    store_label: str,
    replace_database: bool,
    into_nonempty_store: bool,
) -> Restored:
    """Restore the objects into ``store``, each checked as it goes in, then the database.

    The database comes last: a damaged object stops the restore before the database is
    touched, so a restored database never refers to bytes that did not arrive."""
    holding = databases.holds_data(database_url)
    if holding and not replace_database:
        raise BackupError(
            f"The database MICROCRED_DATABASE_URL points at already holds data ({len(holding)} "
            f"table(s) with rows, e.g. {holding[0]}).",
            hint="Restore into a new, empty database (e.g. createdb, then point "
            "MICROCRED_DATABASE_URL at it); or pass --replace-database to delete everything in "
            "this one first.",
        )
    if not into_nonempty_store and _holds_files(store, store_label):
        raise BackupError(
            f"The evidence store ({store_label}) already holds files.",
            hint="Restore into an empty folder or bucket (MICROCRED_EVIDENCE_PATH or "
            "MICROCRED_S3_BUCKET); or pass --into-nonempty-store to add the backup's files to "
            "it (a file with the same key is replaced, the others are left as they are).",
        )
    written = 0
    for copy in manifest.objects:
        _copy_in(store, store_label, folder, copy, written)
        written += 1
    path = folder / manifest.database.file
    if digest(path)[1] != manifest.database.sha256:
        raise BackupError(
            f"{manifest.database.file} does not have the SHA-256 the manifest records: its "
            f"bytes changed after the backup. The database was not touched ({written} evidence "
            "files were restored into the store).",
            hint="Restore another backup (with --into-nonempty-store: the files just restored "
            "are in the store).",
        )
    databases.restore(database_url, path)
    rows, revision = databases.rows_and_revision(database_url)
    if rows != manifest.database.rows or revision != manifest.database.revision:
        differing = sorted(
            name
            for name in rows.keys() | manifest.database.rows.keys()
            if rows.get(name) != manifest.database.rows.get(name)
        )
        raise BackupError(
            "The restored database does not hold what the backup recorded"
            + (f" (table {differing[0]} differs)." if differing else " (its revision differs)."),
            hint="Check that nothing else writes to this database during the restore, and "
            "restore again with --replace-database.",
        )
    return Restored(
        manifest,
        rows=sum(rows.values()),
        tables=len(rows),
        objects=written,
        bytes=sum(copy.size for copy in manifest.objects),
    )


def _holds_files(store: EvidenceStore, store_label: str) -> bool:
    try:
        return next(iter(store.keys()), None) is not None
    except StoreError as exc:
        raise _store_failed(store_label, exc) from None


class _Checking:
    """A reader that hashes and counts what passes through it."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("rb")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self.handle.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def _copy_in(
    store: EvidenceStore, store_label: str, folder: Path, copy: StoredCopy, written: int
) -> None:
    reader = _Checking(object_path(folder, copy.key))
    try:
        with reader.handle:
            store.put(copy.key, reader)
    except StoreError as exc:
        raise _store_failed(store_label, exc) from None
    if reader.sha256.hexdigest() != copy.sha256 or reader.size != copy.size:
        store.delete(copy.key)
        raise BackupError(
            f"{object_path(folder, copy.key).relative_to(folder).as_posix()} does not have the "
            "SHA-256 the manifest records: its bytes changed after the backup. The database was "
            f"not touched ({written} evidence files were restored into the store before it).",
            hint="Restore another backup (with --into-nonempty-store: the files just restored "
            "are in the store).",
        )


def _store_failed(store_label: str, exc: StoreError) -> BackupError:
    return BackupError(
        f"The evidence store ({store_label}) failed: {exc}.",
        hint="Check the MICROCRED_EVIDENCE_* or MICROCRED_S3_* settings and that the store "
        "answers, then restore again (with --into-nonempty-store if files had arrived).",
    )
