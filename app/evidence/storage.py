"""The evidence store: where the bytes of uploaded evidence files live, behind one interface.

Two implementations: ``LocalStore``, a folder on disk (the embedded default, under the instance
folder), and ``S3Store``, an S3-compatible bucket (the scaled shape; AWS S3, MinIO, Ceph…).
Files are addressed by a random key (``new_key``), never by anything the educator chose.

An upload arrives in fixed-size chunks (``CHUNK_SIZE``); chunk n starts at byte n * CHUNK_SIZE.
Writing a chunk is idempotent by position — a chunk sent twice lands in the same place — so a
retried request never corrupts a file. On S3, chunk n is multipart part n + 1 (parts must be at
least 5 MiB except the last). Each store returns its progress as a small JSON-able dict that the
caller keeps in ``EvidenceFile.upload`` and hands back with the next chunk; the local store
needs none, S3 keeps the multipart upload id and the parts' ETags.

Why 16 MiB: each chunk request costs a fixed amount besides its bytes (the launch checked, rows
locked and updated, a commit, an fsync). At 8 MiB that kept an upload under half the raw disk's
speed (``bench/uploads.py`` on PostgreSQL: 0.38-0.45 of it; 0.63-0.79 at 16 MiB), and a chunk
lost to a dropped connection is still under a minute of a slow school uplink.

Backups (``app.backup``) read a store through the same interface: ``keys`` lists the complete
files, ``read`` streams one out and ``put`` streams one back in, without holding it in memory.

Multipart upload: https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app

from config import Settings

CHUNK_SIZE = 16 * 1024 * 1024
"""Bytes per upload chunk (every chunk but the last is exactly this long)."""
READ_BLOCK = 256 * 1024
_KEY = re.compile(r"[0-9a-f]{32}")


class StoreError(RuntimeError):
    """The store could not do what was asked (disk full, bucket unreachable…)."""


class NotStored(StoreError):
    """The store answered, and holds no complete file under that key."""


def new_key() -> str:
    """Return a fresh random storage key (128 bits, lowercase hex)."""
    return secrets.token_hex(16)


def _checked(key: str) -> str:
    # Keys are ours, but a path is built from them: refuse anything else outright.
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Readable(Protocol):
    """Anything ``put`` can take a file from: an open file, ``io.BytesIO``, a checking reader."""

    def read(self, size: int = -1, /) -> bytes: ...


class EvidenceStore(Protocol):
    """What the evidence services need from a store."""

    def begin(self, key: str) -> dict[str, Any]:
        """Prepare to receive the file ``key``; return the upload's progress state."""

    def write(self, key: str, upload: dict[str, Any], offset: int, data: bytes) -> dict[str, Any]:
        """Store ``data`` at ``offset`` (a multiple of ``CHUNK_SIZE``); return the new state."""

    def complete(self, key: str, upload: dict[str, Any]) -> None:
        """Make the uploaded chunks the file ``key``, readable from now on."""

    def abort(self, key: str, upload: dict[str, Any]) -> None:
        """Forget an unfinished upload and whatever of it was stored."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Yield the bytes of ``key`` from ``start`` up to and including ``end`` (or the end)."""

    def delete(self, key: str) -> None:
        """Remove the complete file ``key`` (no error if it is already gone)."""

    def exists(self, key: str) -> bool:
        """Tell whether the complete file ``key`` is stored."""

    def keys(self) -> Iterator[str]:
        """Yield the key of every complete file stored (unfinished uploads are not files)."""

    def put(self, key: str, source: Readable) -> None:
        """Store everything ``source`` reads as the complete file ``key`` (replacing any),
        a block at a time."""

    def check(self) -> None:
        """Return when files can be stored; raise ``StoreError`` when not (readiness)."""


class LocalStore:
    """Files in a folder: ``<root>/ab/cd/abcd…`` once complete, ``….part`` while arriving."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key[2:4] / key

    def _partial(self, key: str) -> Path:
        return self._path(key).with_suffix(".part")

    def begin(self, key: str) -> dict[str, Any]:
        path = self._partial(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return {}

    def write(self, key: str, upload: dict[str, Any], offset: int, data: bytes) -> dict[str, Any]:
        path = self._partial(key)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError as exc:
            raise StoreError(f"the upload {key} is not in progress") from exc
        try:
            # Positioned write, then drop anything past it: a resent chunk replaces itself.
            view = memoryview(data)
            written = 0
            while written < len(view):
                written += os.pwrite(fd, view[written:], offset + written)
            os.ftruncate(fd, offset + len(data))
            # The database records these bytes as received once this returns: they must be
            # on disk, not in the page cache, before it does.
            os.fsync(fd)
        finally:
            os.close(fd)
        return upload

    def complete(self, key: str, upload: dict[str, Any]) -> None:
        try:
            os.replace(self._partial(key), self._path(key))
        except FileNotFoundError as exc:
            raise StoreError(f"the upload {key} is not in progress") from exc
        # The new name must survive a crash too: sync the folder that holds it.
        folder = os.open(self._path(key).parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def abort(self, key: str, upload: dict[str, Any]) -> None:
        self._partial(key).unlink(missing_ok=True)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise NotStored(f"the file {key} is not stored") from exc
        return self._blocks(handle, start, end)

    @staticmethod
    def _blocks(handle: Any, start: int, end: int | None) -> Iterator[bytes]:
        with handle:
            handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                block = handle.read(READ_BLOCK if remaining is None else min(READ_BLOCK, remaining))
                if not block:
                    return
                if remaining is not None:
                    remaining -= len(block)
                yield block

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self) -> Iterator[str]:
        for path in self.root.glob("*/*/*"):
            # Only a name a key makes, in the folder its key puts it in (".part" is not one).
            if _KEY.fullmatch(path.name) and path.parent == self._path(path.name).parent:
                yield path.name

    def put(self, key: str, source: Readable) -> None:
        partial = self._partial(key)
        partial.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as handle:
            while block := source.read(READ_BLOCK):
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
        self.complete(key, {})

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"the evidence folder cannot be made: {exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreError("the evidence folder is not writable")


class S3Store:
    """Files as objects in an S3-compatible bucket, uploaded by multipart upload."""

    def __init__(self, client: Any, bucket: str, prefix: str = "evidence/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _object(self, key: str) -> str:
        return self.prefix + _checked(key)

    def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"the evidence bucket refused {method}: {exc}") from exc

    def begin(self, key: str) -> dict[str, Any]:
        answer = self._call("create_multipart_upload", Key=self._object(key))
        return {"upload_id": answer["UploadId"], "parts": {}}

    def write(self, key: str, upload: dict[str, Any], offset: int, data: bytes) -> dict[str, Any]:
        number = offset // CHUNK_SIZE + 1
        answer = self._call(
            "upload_part",
            Key=self._object(key),
            UploadId=upload["upload_id"],
            PartNumber=number,
            Body=data,
        )
        parts = {n: etag for n, etag in upload["parts"].items() if int(n) < number}
        parts[str(number)] = answer["ETag"]
        return {"upload_id": upload["upload_id"], "parts": parts}

    def complete(self, key: str, upload: dict[str, Any]) -> None:
        parts = sorted((int(n), etag) for n, etag in upload["parts"].items())
        self._call(
            "complete_multipart_upload",
            Key=self._object(key),
            UploadId=upload["upload_id"],
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
        )

    def abort(self, key: str, upload: dict[str, Any]) -> None:
        if upload.get("upload_id"):
            # Already completed or aborted: nothing left to forget.
            with contextlib.suppress(StoreError):
                self._call(
                    "abort_multipart_upload", Key=self._object(key), UploadId=upload["upload_id"]
                )

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        span = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = self._call("get_object", Key=self._object(key), Range=span)
        except StoreError as exc:
            if isinstance(exc.__cause__, ClientError) and _missing(exc.__cause__):
                raise NotStored(f"the file {key} is not in the evidence bucket") from exc
            raise
        return self._blocks(answer["Body"])

    @staticmethod
    def _blocks(body: Any) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError

        try:
            yield from body.iter_chunks(READ_BLOCK)
        except BotoCoreError as exc:  # the connection dropped mid-body
            raise StoreError(f"the evidence bucket stopped sending: {exc}") from exc
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self._call("delete_object", Key=self._object(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise StoreError(f"the evidence bucket refused head_object: {exc}") from exc
        return True

    def keys(self) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for found in page.get("Contents", ()):
                    name = found["Key"][len(self.prefix) :]
                    if _KEY.fullmatch(name):
                        yield name
        except (BotoCoreError, ClientError) as exc:
            raise StoreError(f"the evidence bucket refused list_objects_v2: {exc}") from exc

    def put(self, key: str, source: Readable) -> None:
        first = _read_up_to(source, CHUNK_SIZE)
        if len(first) < CHUNK_SIZE:  # the whole file: one request
            self._call("put_object", Key=self._object(key), Body=first)
            return
        upload = self.begin(key)
        try:
            offset, data = 0, first
            while data:
                upload = self.write(key, upload, offset, data)
                offset += len(data)
                data = _read_up_to(source, CHUNK_SIZE)
            self.complete(key, upload)
        except BaseException:
            self.abort(key, upload)
            raise

    def check(self) -> None:
        self._call("head_bucket")


def _read_up_to(source: Readable, size: int) -> bytes:
    """Read ``size`` bytes, fewer only at the end: a part must be whole to be a part."""
    pieces: list[bytes] = []
    wanted = size
    while wanted > 0 and (piece := source.read(wanted)):
        pieces.append(piece)
        wanted -= len(piece)
    return b"".join(pieces)


def _missing(exc: Any) -> bool:
    """Tell whether an S3 ``ClientError`` says there is no such object."""
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def s3_client(settings: Settings) -> Any:
    """Return a boto3 S3 client for the settings' endpoint, region and credentials."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        # Path-style addressing works with every S3-compatible server (MinIO, moto, Ceph).
        config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
    )


def factory(settings: Settings) -> EvidenceStore:
    """Build the store the settings choose."""
    if settings.evidence_store == "s3":
        assert settings.s3_bucket is not None  # the settings refuse s3 without a bucket
        return S3Store(s3_client(settings), settings.s3_bucket)
    return LocalStore(settings.evidence_path)


def init_app(app: Flask, settings: Settings) -> None:
    """Give the app its evidence store, checked by readiness."""
    from app import health

    store = app.extensions["evidence_store"] = factory(settings)
    health.register(app, "evidence_store", store.check, kind=settings.evidence_store)


def evidence_store() -> EvidenceStore:
    """Return the current app's evidence store."""
    store: EvidenceStore = current_app.extensions["evidence_store"]
    return store
