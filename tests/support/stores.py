"""The evidence store a test's tool uses: a local folder, or a bucket on the S3-compatible
server when the test asks for ``store_kind`` ``s3`` (``parametrize(..., indirect=True)``).
A test folder's ``conftest.py`` takes both fixtures by importing them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    """``local``, unless a test asks for ``s3`` (``parametrize(..., indirect=True)``)."""
    return getattr(request, "param", "local")


@pytest.fixture
def settings_override(
    settings_override: dict[str, Any], store_kind: str, request: pytest.FixtureRequest
) -> dict[str, Any]:
    if store_kind == "s3":
        server = request.getfixturevalue("s3_server")
        return {**settings_override, **server.settings(server.new_bucket())}
    return settings_override
