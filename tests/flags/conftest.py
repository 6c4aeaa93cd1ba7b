"""Fixtures for flag tests: the usual cast of a synced run with a shipment."""

import pytest

from tests.factories import Story, build_story


@pytest.fixture
def story(db) -> Story:
    """The usual cast, committed."""
    return build_story()


@pytest.fixture
def strict_app(app_config, request):
    """The app with CSRF and rate limits on, as in production."""
    app_config.update(WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, ACK_RATE_LIMIT="3 per hour")
    return request.getfixturevalue("app")


@pytest.fixture
def strict_story(strict_app):
    """The usual cast, committed, in the strict app."""
    with strict_app.app_context():
        return build_story()
