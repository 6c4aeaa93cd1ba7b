"""The PWA's files need no database engine in particular: run these tests on SQLite only."""

import pytest

from tests.helpers import make_config


@pytest.fixture
def app_config(sqlite_only, tmp_path):
    """The usual test config, on SQLite only."""
    return make_config(sqlite_only, tmp_path)
