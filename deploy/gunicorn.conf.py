"""gunicorn settings for one r4h_pwa app server (deploy/systemd/r4h_pwa@.service).

    gunicorn --config deploy/gunicorn.conf.py

The environment chooses the address and the worker count, so one file serves every server:
R4H_BIND (default 127.0.0.1:8001) and R4H_WORKERS (default: cores + 1).

Metrics: every worker writes its figures to PROMETHEUS_MULTIPROC_DIR (a folder of this
server's own; the systemd unit sets /run/r4h_pwa-PORT), which is emptied when the server
starts, and any worker's /metrics answers for all of them (r4h_pwa/metrics.py).
"""

import os
import shutil
from pathlib import Path

wsgi_app = "wsgi:app"  # production mode: refuses SQLite, memory:// limits, the dev secret
bind = os.environ.get("R4H_BIND", "127.0.0.1:8001")
# Sync workers: nginx buffers slow clients, so a worker only waits on the database.
worker_class = "sync"
workers = int(os.environ.get("R4H_WORKERS", str((os.cpu_count() or 1) + 1)))
# A request that runs longer is killed and logged; nginx waits 35 s, so it sees gunicorn's 500.
timeout = 30
# On HUP (systemctl reload) or TERM, old workers finish what they are doing for up to 30 s.
graceful_timeout = 30
# No preload: on HUP the new workers import the new code from disk (an upgrade in place).
preload_app = False
# Workers are replaced now and then, so a slow leak cannot grow for weeks.
max_requests = 5000
max_requests_jitter = 500
# Only nginx on this machine may say which address and scheme a client used.
forwarded_allow_ips = "127.0.0.1,::1"

# The access log: one line per request with its id, the same id nginx logged and sent as
# X-Request-ID, and the app echoed back ({x-request-id}o is the answer's header).
accesslog = "-"
errorlog = "-"
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s pid=%(p)s "%(a)s"'
)
proc_name = f"r4h_pwa {bind}"


def on_starting(server):
    """Empty the metrics folder at each start (not at a reload: the counts live on).

    Figures of an earlier run's workers would otherwise be added to this run's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        path = Path(folder)
        if path.is_dir():
            for entry in path.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        path.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """A worker ended (reload, max_requests, crash): drop its live gauges from the sums.

    This is r4h_pwa.metrics.child_exit, done with prometheus_client alone: this hook runs in
    the master, and once the master had imported r4h_pwa, the workers it forks after a HUP
    would inherit that old code instead of importing the new code from disk."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
