"""Privacy fixtures: the evidence store of the tool (a local folder, or a bucket on the
S3-compatible server, when a test asks for ``store_kind`` ``s3``)."""

from __future__ import annotations

from tests.support.stores import settings_override, store_kind

__all__ = ["settings_override", "store_kind"]
