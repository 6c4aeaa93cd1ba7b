"""Prometheus metrics at /metrics, for the addresses METRICS_ALLOWED_NETWORKS names only.

Counted: requests and their latency per endpoint (the URL rule, never the raw path, so a
family token never becomes a label), sync results by status, how long runs waited in the
phones' outboxes (as the phones report it), and the database pool's connections.

Under gunicorn, set PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at each start)
in the environment of the master process: every worker writes its figures there and any
worker answers /metrics for all of them. deploy/gunicorn.conf.py empties it at start and,
in its child_exit hook, does what child_exit() below does.

Which address is checked: request.remote_addr, after ProxyFix when PROXY_FIX is on. Behind
nginx that is the client nginx saw (the last X-Forwarded-For hop, which nginx appends and a
client cannot forge), not nginx's own loopback address; checking the socket's peer there
would let anyone on the internet through nginx.
"""

from __future__ import annotations

import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event

from .extensions import db

bp = Blueprint("metrics", __name__)

REQUESTS = Counter(
    "r4h_http_requests",
    "Requests answered, by endpoint (URL rule), method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "r4h_http_request_duration_seconds",
    "Time to answer a request, by endpoint and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SYNC_RESULTS = Counter(
    "r4h_sync_results", "Runs pushed to POST /api/v1/sync, by result status.", ["status"]
)
OUTBOX_AGE = Histogram(
    "r4h_sync_outbox_age_seconds",
    "How long the oldest run of a sync waited in the phone's outbox, as the phone reports it.",
    buckets=(1, 10, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600),
)
# livesum: under gunicorn, the sum over the workers that are alive.
POOL_IN_USE = Gauge(
    "r4h_db_pool_checked_out",
    "Database connections in use by requests.",
    multiprocess_mode="livesum",
)
POOL_OPEN = Gauge(
    "r4h_db_pool_open",
    "Database connections open (in use or idle in the pool).",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "r4h_db_pool_size",
    "Connections each pool keeps open (before overflow).",
    multiprocess_mode="livesum",
)

UNMATCHED = "<unmatched>"  # a 404 for no rule: one label, however many paths are probed


def _allowed(address: str | None) -> bool:
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if client.version == 6 and client.ipv4_mapped:
        client = client.ipv4_mapped
    return any(client in network for network in current_app.extensions["metrics_networks"])


@bp.get("/metrics")
def get_metrics():
    """The Prometheus metrics, for the allowed addresses only; a plain 404 for anyone else."""
    if not _allowed(request.remote_addr):
        abort(404)  # nothing to see here, not even that there is something to see
    _update_pool_gauges(db.engine)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def record_sync(statuses: list[str], outbox_age_seconds: int | None) -> None:
    """Count one sync request's results, and the outbox age the phone reported, if any."""
    for status in statuses:
        SYNC_RESULTS.labels(status).inc()
    if outbox_age_seconds is not None:
        OUTBOX_AGE.observe(outbox_age_seconds)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    LATENCY.labels(rule, request.method).observe(time.perf_counter() - started)
    REQUESTS.labels(rule, request.method, str(response.status_code)).inc()
    return response


def _update_pool_gauges(engine) -> None:
    pool = engine.pool
    if hasattr(pool, "checkedout"):  # QueuePool; SQLite in memory has a pool without counts
        POOL_IN_USE.set(pool.checkedout())
        POOL_OPEN.set(pool.checkedout() + pool.checkedin())
        POOL_SIZE.set(pool.size())


def _watch_pool(app: Flask) -> None:
    """Keep the pool gauges current as connections are taken and given back."""
    with app.app_context():
        engine = db.engine  # built by db.init_app; this connects to nothing
    for name in ("checkout", "checkin"):
        event.listen(engine, name, lambda *_args: _update_pool_gauges(engine))


def child_exit(worker_pid: int) -> None:
    """For gunicorn's child_exit hook: drop a dead worker's live gauges from the sums."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker_pid)


def allowed_networks(setting) -> tuple:
    """METRICS_ALLOWED_NETWORKS as networks: a list, or one comma-separated string (what an
    env file such as deploy/env.example can carry: systemd strips the quotes JSON needs)."""
    if isinstance(setting, str):
        setting = [part for part in (p.strip() for p in setting.split(",")) if part]
    try:
        return tuple(ipaddress.ip_network(n, strict=False) for n in setting)
    except ValueError as exc:
        raise ValueError(f"METRICS_ALLOWED_NETWORKS: {exc}") from None


def init_app(app: Flask) -> None:
    """Time every request, watch the pool, and serve /metrics to METRICS_ALLOWED_NETWORKS."""
    app.extensions["metrics_networks"] = allowed_networks(app.config["METRICS_ALLOWED_NETWORKS"])
    app.before_request(_start_timer)
    app.after_request(_observe)
    _watch_pool(app)
    app.register_blueprint(bp)
