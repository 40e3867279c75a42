from __future__ import annotations

from typing import Any

import pytest

from tests.admin.console import signed_in_client


@pytest.fixture
def operator_client(app: Any) -> Any:
    """A test client signed in to the console as ada@example.org."""
    return signed_in_client(app)
