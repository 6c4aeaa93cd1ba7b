"""Fixtures for sync tests: a signed-in phone."""

import pytest

from tests.factories import Phone, make_phone


@pytest.fixture
def phone(db) -> Phone:
    """A signed-in runner starting from mile 0, with a hero and a 7-lap track."""
    return make_phone(db)
