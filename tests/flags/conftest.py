"""Fixtures for flag tests: the usual cast of a synced run with a shipment."""

import pytest

from tests.factories import Story, build_story


@pytest.fixture
def story(db) -> Story:
    """The usual cast, committed."""
    return build_story()
