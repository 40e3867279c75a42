"""Backups: one consistent copy of the database and the evidence store, checked and restored by
``flask backup create | verify | restore`` (issue 29 item 6; docs/operating.md, "Backups").

A backup is a folder of its own:

- ``database.dump`` (PostgreSQL, ``pg_dump``'s custom format) or ``database.sqlite`` (SQLite);
- ``evidence/ab/cd/<key>``: the evidence objects the database refers to, laid out as a local
  evidence store;
- ``manifest.json``, written last (a folder without one did not finish): the format's
  version, the tool's version, the database's kind and Alembic revision, when it was made, each
  table's row count, and each object's key, size and SHA-256.

Why the two halves agree. The database is the record of what exists; the store holds bytes the
database points to. So the database is copied first, as one snapshot (``databases``), and the
list of objects to copy is read from that snapshot, in the same transaction; then exactly those
objects are copied from the store, one at a time, streamed, while the tool keeps running:

- An upload completed after the snapshot is not in the snapshot, so its object is not copied:
  the restored tool never heard of it.
- The tool writes an object before it commits the row that calls it complete
  (``files.complete_upload``) and deletes it only after the row's removal is committed
  (``files.forget``): every object the snapshot refers to was in the store at the snapshot.
- It may be gone by the time it is copied, removed after the snapshot (a file taken out of a
  draft, an abandoned upload swept). Such an object is recorded in the manifest as absent, with
  the files that used it, and every command that reads the backup says so: the restored
  database lists those files without their bytes, as any change after the snapshot is lost.
  An object missing while the live database still uses it was lost from the store itself: a
  problem the backup reports (exit status 1) while keeping the rest.
- Each object's SHA-256 is compared with the one recorded when its upload completed: bytes
  changed in the store are reported too.

A restore goes the other way round: the objects first, each hashed as it goes into the store,
then the database, so a damaged backup stops before the database is touched.

Not in a backup: the settings and secrets of the environment (``MICROCRED_SECRET_KEY`` above
all: the signing keys in the database are encrypted with it), Redis (short-lived state), logs.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Give the app its ``flask backup`` commands."""
    from app.backup.cli import group

    app.cli.add_command(group)
