"""A backup's folder and its ``manifest.json``: what the backup holds, read back and checked.

The manifest is written last (to a temporary name, then renamed): a folder without one is a
backup that did not finish. It is plain JSON, so that a person can read what a backup holds
without the tool. Its keys are checked when it is read, before any path is built from them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.errors import AppError

FORMAT = "microcred-backup"
FORMAT_VERSION = 1
"""Raised when a backup's layout changes; a restore refuses a version it does not know."""
MANIFEST = "manifest.json"
EVIDENCE = "evidence"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite"}
KIND_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
_KEY = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")

REMOVED = "removed after the snapshot"
"""An absent object whose files were gone from the live database too when it was copied."""
LOST = "missing from the store"
"""An absent object the live database still used: the store had lost it."""


class BackupError(AppError):
    """A backup that cannot be made, checked or restored; the message says what to do."""

    code = "backup_refused"
    title = "The backup cannot go on"


@dataclass(frozen=True)
class StoredCopy:
    """One evidence object in the backup."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Absent:
    """An object the database refers to that was not in the store when it was copied."""

    key: str
    file_ids: list[int]
    reason: str


@dataclass(frozen=True)
class Changed:
    """An object whose bytes in the store no longer had the SHA-256 recorded at its upload."""

    key: str
    file_ids: list[int]
    recorded_sha256: str | None
    stored_sha256: str


@dataclass(frozen=True)
class DatabaseCopy:
    kind: str
    """``postgresql`` or ``sqlite``: a backup restores only into the same kind."""
    file: str
    size: int
    sha256: str
    revision: str | None
    """The Alembic revision the database was at: a restore gives back that revision."""
    rows: dict[str, int]
    """Rows per table in the snapshot; a restore checks it got the same."""


@dataclass
class Manifest:
    tool_version: str
    created_at: str
    secret_fingerprint: str
    """Which ``MICROCRED_SECRET_KEY`` encrypted the keys in the database (not the secret)."""
    database: DatabaseCopy
    store: str
    """The store the objects came from, as an operator names it."""
    objects: list[StoredCopy] = field(default_factory=list)
    absent: list[Absent] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    unfinished_uploads: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at,
            "secret_fingerprint": self.secret_fingerprint,
            "database": asdict(self.database),
            "evidence": {
                "store": self.store,
                "objects": [asdict(entry) for entry in self.objects],
                "absent": [asdict(entry) for entry in self.absent],
                "changed": [asdict(entry) for entry in self.changed],
                "unfinished_uploads": self.unfinished_uploads,
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """Read a manifest, refusing anything that is not one this version can trust."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _unreadable("it is not a Microcred backup manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                f"This backup is in format {data.get('format_version')!r}; this version of "
                f"Microcred reads format {FORMAT_VERSION}.",
                hint="Use the version of Microcred that made the backup (its manifest.json "
                "names it under tool_version) to restore it.",
            )
        try:
            database = DatabaseCopy(**data["database"])
            evidence = data["evidence"]
            manifest = cls(
                tool_version=str(data["tool_version"]),
                created_at=str(data["created_at"]),
                secret_fingerprint=str(data["secret_fingerprint"]),
                database=database,
                store=str(evidence["store"]),
                objects=[StoredCopy(**entry) for entry in evidence["objects"]],
                absent=[Absent(**entry) for entry in evidence["absent"]],
                changed=[Changed(**entry) for entry in evidence["changed"]],
                unfinished_uploads=int(evidence["unfinished_uploads"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _unreadable(f"an entry is missing or malformed ({exc})") from None
        if database.kind not in DATABASE_FILES or database.file != DATABASE_FILES[database.kind]:
            raise _unreadable(f"its database kind {database.kind!r} is not one this tool makes")
        for entry in manifest.objects:
            if not _KEY.fullmatch(entry.key) or not _SHA256.fullmatch(entry.sha256):
                raise _unreadable(f"{entry.key!r} is not an evidence object's key and hash")
        return manifest


def _unreadable(why: str) -> BackupError:
    return BackupError(
        f"The manifest.json of this backup cannot be read: {why}.",
        hint="Check that the folder is a backup made by 'flask backup create' and that "
        "manifest.json was not edited; otherwise use another backup.",
    )


def object_path(folder: Path, key: str) -> Path:
    """Where an evidence object lies in a backup: laid out as a local evidence store."""
    return folder / EVIDENCE / key[:2] / key[2:4] / key


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(
            f"There is no folder {folder}.", hint="Give the folder 'flask backup create' made."
        )
    if not path.is_file():
        raise BackupError(
            f"{folder} holds no {MANIFEST}: it is not a backup, or its making did not finish "
            "(the manifest is written last).",
            hint="Use another backup; a folder left by an interrupted backup can be deleted.",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _unreadable(str(exc)) from None
    return Manifest.from_json(data)


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write the manifest durably and last: a temporary file, synced, then renamed."""
    temporary = folder / (MANIFEST + ".part")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(manifest.to_json(), handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / MANIFEST)
    sync_folder(folder)


def sync_folder(folder: Path) -> None:
    """Make the names just written in ``folder`` survive a crash."""
    sync_file(folder)


def sync_file(path: Path) -> None:
    """Make a file's bytes (or a folder's names) survive a crash."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def digest(path: Path) -> tuple[int, str]:
    """Return a file's size and SHA-256, read a block at a time."""
    with path.open("rb") as handle:
        found = hashlib.file_digest(handle, "sha256")
    return path.stat().st_size, found.hexdigest()
