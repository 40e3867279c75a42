"""Evidence storage settings: wrong values stop the app at start, with what to fix."""

from __future__ import annotations

import pytest

from config import ConfigurationError, load_settings


def settings(tmp_path, **values):
    return load_settings({"MICROCRED_INSTANCE_PATH": str(tmp_path), **values})


def test_evidence_is_kept_in_the_instance_folder_by_default(tmp_path):
    found = settings(tmp_path)
    assert found.evidence_store == "local"
    assert found.evidence_path == tmp_path / "evidence"
    assert found.upload_max_bytes == 1024**3


def test_an_unknown_store_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="'local' or 's3'"):
        settings(tmp_path, MICROCRED_EVIDENCE_STORE="ftp")


def test_s3_without_a_bucket_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="MICROCRED_S3_BUCKET is not set"):
        settings(tmp_path, MICROCRED_EVIDENCE_STORE="s3")


def test_half_of_the_s3_credentials_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="or neither"):
        settings(
            tmp_path,
            MICROCRED_EVIDENCE_STORE="s3",
            MICROCRED_S3_BUCKET="evidence",
            MICROCRED_S3_ACCESS_KEY_ID="key",
        )


def test_an_endpoint_that_is_not_a_url_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        settings(
            tmp_path,
            MICROCRED_EVIDENCE_STORE="s3",
            MICROCRED_S3_BUCKET="evidence",
            MICROCRED_S3_ENDPOINT_URL="minio:9000",
        )


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_an_upload_limit_that_is_not_a_positive_number_is_refused(tmp_path, value):
    with pytest.raises(ConfigurationError, match="MICROCRED_UPLOAD_MAX_BYTES"):
        settings(tmp_path, MICROCRED_UPLOAD_MAX_BYTES=value)
