"""The deployment guide and the files it installs agree with each other (no servers needed)."""

import re
import shutil
import subprocess

import pytest

from tests.cluster.harness import DEPLOY, ENV_EXAMPLE, NGINX_SITE, read_env_file, render
from tests.cluster.harness import template_variables as variables_of

GUIDE = (DEPLOY / "README.md").read_text()


def _guide_envsubst_list() -> set[str]:
    names = re.search(r"^envsubst '([^']+)'", GUIDE, re.MULTILINE).group(1)
    return set(re.findall(r"\$\{(\w+)\}", names))


def test_the_guide_renders_every_variable_of_the_nginx_template():
    assert _guide_envsubst_list() == variables_of(NGINX_SITE.read_text())


def test_the_guide_exports_a_value_for_each_variable():
    exported = set(re.findall(r"\b(R4H_[A-Z0-9_]+)=", GUIDE.split("envsubst '")[0]))
    assert variables_of(NGINX_SITE.read_text()) <= exported


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="gettext-base is not installed")
def test_envsubst_renders_what_the_cluster_test_renders():
    """The test's renderer and the guide's envsubst write the same file, nginx's $vars intact."""
    template = NGINX_SITE.read_text()
    values = {name: f"value-of-{name.lower()}" for name in variables_of(template)}
    listed = " ".join(f"${{{name}}}" for name in sorted(values))
    by_envsubst = subprocess.run(
        ["envsubst", listed], input=template, env=values, capture_output=True, text=True, check=True
    ).stdout
    assert by_envsubst == render(template, values)
    assert "$request_id" in by_envsubst and "$host" in by_envsubst


def test_env_example_names_settings_the_app_reads():
    from r4h_pwa import create_app

    app = create_app({"TESTING": True})
    known = set(app.config) | {"RATELIMIT_KEY_PREFIX"}  # Flask-Limiter's, no default set
    for name in read_env_file(ENV_EXAMPLE):
        if name.startswith("R4H_") and name != "R4H_WORKERS":  # gunicorn.conf.py's own
            assert name.removeprefix("R4H_") in known, name


# ---- operations: metrics, page cache, backups ----------------------------------------------------


def _gunicorn_config(monkeypatch, metrics_dir):
    import runpy

    from tests.cluster.harness import GUNICORN_CONFIG

    if metrics_dir is None:
        monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    else:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    return runpy.run_path(str(GUNICORN_CONFIG))


def test_gunicorn_empties_the_metrics_folder_at_start_and_forgets_dead_workers(
    monkeypatch, tmp_path
):
    from prometheus_client import multiprocess  # noqa: F401 (the hook's own import)

    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_111.db").write_bytes(b"an earlier run's")
    (folder / "leftover").mkdir()
    config = _gunicorn_config(monkeypatch, folder)
    config["on_starting"](server=None)
    assert folder.is_dir() and list(folder.iterdir()) == []

    # A worker's live gauge goes with it; its counts stay (they happened).
    (folder / "gauge_livesum_222.db").write_bytes(b"")
    (folder / "counter_222.db").write_bytes(b"")
    config["child_exit"](server=None, worker=type("Worker", (), {"pid": 222})())
    assert sorted(p.name for p in folder.iterdir()) == ["counter_222.db"]


def test_gunicorn_hooks_do_nothing_without_a_metrics_folder(monkeypatch):
    config = _gunicorn_config(monkeypatch, None)
    config["on_starting"](server=None)
    config["child_exit"](server=None, worker=type("Worker", (), {"pid": 1})())


def test_the_gunicorn_config_never_imports_the_app_into_the_master():
    # Workers forked after a HUP would inherit the master's (old) r4h_pwa modules.
    import ast

    from tests.cluster.harness import GUNICORN_CONFIG

    tree = ast.parse(GUNICORN_CONFIG.read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "prometheus_client" in imported
    assert not any(name.split(".")[0] in ("r4h_pwa", "wsgi") for name in imported)


def test_each_app_server_gets_a_metrics_folder_of_its_own():
    unit = (DEPLOY / "systemd" / "r4h_pwa@.service").read_text()
    assert "RuntimeDirectory=r4h_pwa-%i" in unit
    assert "Environment=PROMETHEUS_MULTIPROC_DIR=/run/r4h_pwa-%i" in unit


def test_nginx_lets_only_loopback_read_metrics():
    site = NGINX_SITE.read_text()
    block = re.search(r"location = /metrics \{(.*?)\}", site, re.DOTALL).group(1)
    rules = [
        line.strip()
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert rules == [
        "allow 127.0.0.1;",
        "allow ::1;",
        "deny all;",
        "proxy_pass http://r4h_pwa_app;",
    ]


def test_env_example_sets_the_page_cache_metrics_and_retention():
    env = read_env_file(ENV_EXAMPLE)
    assert env["R4H_PAGE_CACHE_URL"] == "redis://127.0.0.1:6379/1"
    assert env["R4H_RATELIMIT_STORAGE_URI"].endswith("/0")  # never the cache's db
    assert env["R4H_METRICS_ALLOWED_NETWORKS"] == "127.0.0.1/32,::1/128"
    assert int(env["R4H_BACKUP_KEEP"]) > 0 and int(env["R4H_BACKUP_KEEP_DAYS"]) > 0
    assert all('"' not in v and "'" not in v and "$" not in v for v in env.values())


def test_the_backup_unit_writes_where_the_guide_makes_the_folder():
    service = (DEPLOY / "systemd" / "r4h_pwa-backup.service").read_text()
    target = re.search(
        r"^ExecStart=.*flask --app r4h_pwa backup (\S+)$", service, re.MULTILINE
    ).group(1)
    assert target in re.search(r"^ReadWritePaths=(.*)$", service, re.MULTILINE).group(1)
    assert f"-m 700 {target}" in GUIDE  # install -d -o r4h -g r4h -m 700
    assert "EnvironmentFile=/etc/r4h_pwa/env" in service  # where the retention settings are
    timer = (DEPLOY / "systemd" / "r4h_pwa-backup.timer").read_text()
    assert "OnCalendar=" in timer and "Persistent=true" in timer
