"""The cluster fixture: nginx, two gunicorn servers, PostgreSQL and Redis, from deploy/.

It skips when nginx, PostgreSQL or Redis is missing, and fails instead under
R4H_REQUIRE_POSTGRES or R4H_REQUIRE_REDIS (CI sets both: .ci/run).
"""

import os

import pytest

from tests.cluster.harness import Cluster, Missing

# Every client of the cluster test comes from 127.0.0.1, and nginx (rightly) does not pass on
# a client's own X-Forwarded-For: to the app, 50 officers share one address. A school's Wi-Fi
# is the same case; the per-phone and per-run check-in limits stay as they are.
SETTINGS = {"R4H_CHECKIN_ADDRESS_RATE_LIMIT": "1000 per minute"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running cluster for the module's tests; stopped and its database dropped after."""
    try:
        running = Cluster(tmp_path_factory.mktemp("cluster"), workers=2, settings=SETTINGS)
    except Missing as missing:
        if os.environ.get("R4H_REQUIRE_POSTGRES") or os.environ.get("R4H_REQUIRE_REDIS"):
            pytest.fail(f"the cluster cannot start: {missing}")
        pytest.skip(f"the cluster cannot start: {missing}")
    yield running
    running.stop()
