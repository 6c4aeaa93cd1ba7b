"""Every test here drives a real Chromium: mark it e2e.

The live server, the browser, context and page fixtures live in tests/conftest.py, so that
browser tests elsewhere (check-in, flags) share them.
"""

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Mark everything under tests/e2e as e2e, so `-m "not e2e"` skips the browser."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
