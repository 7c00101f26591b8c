from __future__ import annotations

import pytest

from tourism.database import write_transactions


@pytest.fixture(autouse=True)
def write_mode():
    """Service calls here run as a writing request would: SQLite's write lock taken up front."""
    with write_transactions():
        yield
