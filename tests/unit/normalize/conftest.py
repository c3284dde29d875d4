"""Fixtures for normalize's unit tests: the packaged reference data."""

from __future__ import annotations

import pytest
from cchc_normalize.steps.canonicalize import Reference


@pytest.fixture(scope="session")
def ref() -> Reference:
    """The packaged reference data, loaded and validated as the service loads it."""
    return Reference.load()
