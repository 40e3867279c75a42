"""The files API on the S3-compatible store (moto's server mode on loopback): multipart upload
chunk by chunk, resume, completion, ranges and removal, as on local disk."""

from __future__ import annotations

import hashlib
import os

import pytest

from app.evidence.storage import CHUNK_SIZE, evidence_store
from tests.evidence.conftest import file_row


@pytest.fixture
def settings_override(settings_override, s3_server):
    return {**settings_override, **s3_server.settings(s3_server.new_bucket())}


def test_an_upload_to_s3_resumes_completes_downloads_by_range_and_is_removed(educator, live):
    content = b"%PDF-1.7\n" + os.urandom(CHUNK_SIZE + 5000)
    file_id = educator.start("video.pdf", len(content)).json()["id"]
    assert educator.put(file_id, 0, content[:CHUNK_SIZE]).ok
    assert educator.put(file_id, 0, content[:CHUNK_SIZE]).status_code == 409
    received = educator.status(file_id).json()["received"]
    assert educator.put(file_id, received, content[received:]).ok
    done = educator.complete(file_id).json()
    assert done["sha256"] == hashlib.sha256(content).hexdigest()
    part = educator.download(file_id, Range="bytes=100-199")
    assert part.status_code == 206 and part.content == content[100:200]
    key = file_row(live, file_id).storage_key
    with live.tool.app_context():
        assert evidence_store().exists(key)
        assert educator.delete(file_id).ok
        assert not evidence_store().exists(key)


def test_cancelling_an_s3_upload_aborts_the_multipart_upload(educator, live, s3_server):
    file_id = educator.start("video.pdf", 2 * CHUNK_SIZE).json()["id"]
    educator.put(file_id, 0, b"%PDF-1.7" + bytes(CHUNK_SIZE - 8))
    bucket = live.tool.config["MICROCRED_SETTINGS"].s3_bucket
    assert s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert educator.delete(file_id).ok
    assert not s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")
