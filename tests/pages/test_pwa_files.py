"""The installable PWA's files: manifest, service worker and app shell, as the server sends them."""

import json
import re
import shutil
import struct
from pathlib import Path

import pytest

from r4h_pwa.pages.views import shell_version

STATIC = Path(__file__).resolve().parents[2] / "static"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
MODULE_IMPORT = re.compile(r'(?:from |import |import\()"\./([\w-]+\.js)"')


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def app_shell_list(source: str) -> list[str]:
    """The URLs in sw.js's APP_SHELL array."""
    block = re.search(r"const APP_SHELL = \[(.*?)\];", source, re.S).group(1)
    return re.findall(r'"([^"]+)"', block)


def test_manifest_is_served_as_a_web_app_manifest(client):
    with client.get("/manifest.webmanifest") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/manifest+json"
        manifest = json.loads(response.data)
    assert manifest["name"] and manifest["short_name"]
    assert len(manifest["short_name"]) <= 12  # fits under a home-screen icon
    assert manifest["start_url"] == "/app/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])


@pytest.mark.parametrize(("size", "purpose"), [(192, "any"), (512, "any"), (512, "maskable")])
def test_manifest_icons_exist_at_their_stated_size(client, size, purpose):
    with client.get("/manifest.webmanifest") as response:
        icons = json.loads(response.data)["icons"]
    icon = next(i for i in icons if i["sizes"] == f"{size}x{size}" and i["purpose"] == purpose)
    assert icon["type"] == "image/png"
    with client.get(icon["src"]) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert png_size(response.data) == (size, size)


def test_service_worker_is_served_from_the_root_for_root_scope(client):
    with client.get("/sw.js") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert response.headers["Service-Worker-Allowed"] == "/"
        assert response.headers["Cache-Control"] == "no-cache"
        source = response.get_data(as_text=True)
    first, second = source.splitlines()[:2]
    assert re.fullmatch(r'const VERSION = "[0-9a-f]{12}";.*', first)
    assert second == 'const CACHE_PREFIX = "r4h-";'


def test_service_worker_never_skips_waiting_on_its_own(client):
    with client.get("/sw.js") as response:
        source = response.get_data(as_text=True)
    # The only skipWaiting() answers the page's message, sent when no run is in progress.
    assert source.count("skipWaiting()") == 1
    assert re.search(r'=== "SKIP_WAITING" && self\.skipWaiting\(\)', source)


def test_everything_the_service_worker_precaches_is_served(client):
    with client.get("/sw.js") as response:
        shell = app_shell_list(response.get_data(as_text=True))
    assert "/app/" in shell and "/offline/" in shell
    for url in shell:
        with client.get(url) as response:
            assert response.status_code == 200, url


def test_every_module_the_app_imports_is_precached(client):
    with client.get("/sw.js") as response:
        shell = set(app_shell_list(response.get_data(as_text=True)))
    seen, waiting = set(), ["app.js"]
    while waiting:  # app.js and its imports, static and dynamic, all the way down
        name = waiting.pop()
        seen.add(name)
        assert f"/static/js/{name}" in shell, name
        source = (STATIC / "js" / name).read_text()
        waiting += [m for m in MODULE_IMPORT.findall(source) if m not in seen]
    assert seen >= {"app.js", "db.js", "counter.js", "outbox.js", "api.js", "shared.js"}


def test_the_service_worker_loads_the_outbox_rules_it_shares_with_the_page(client):
    with client.get("/sw.js") as response:
        source = response.get_data(as_text=True)
    assert 'importScripts("/static/js/shared.js");' in source
    for copy in ('"r4h-outbox"', 'indexedDB.open("r4h")', '"synced" : "parked"', "/photos/"):
        assert copy not in source, copy  # each lives in shared.js only
    assert not re.search(r"\b50\b", source)  # the batch size (500, a status, is not it)
    with client.get("/static/js/shared.js") as response:
        assert response.status_code == 200
        assert "export " not in response.get_data(as_text=True)  # importScripts takes no modules


@pytest.mark.parametrize("changed", ["js/counter.js", "css/site.css"])
def test_service_worker_version_follows_every_static_file(app, tmp_path, changed):
    static = tmp_path / "static"
    shutil.copytree(STATIC, static)
    app.static_folder = str(static)
    with app.test_request_context():
        before = shell_version()
        assert shell_version() == before
        path = static / changed
        path.write_text(path.read_text() + "\n/* changed */\n")
        assert shell_version() != before


def test_app_shell_is_served_with_its_test_hooks(client):
    with client.get("/app/") as response:
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        html = response.get_data(as_text=True)
    for hook in (
        "begin-laps", "lap-button", "lap-count", "undo-lap", "finish-run", "confirm-finish",
        "pending-count", "sync-now",
    ):  # fmt: skip
        assert html.count(f'data-testid="{hook}"') == 1, hook
    assert 'rel="manifest" href="/manifest.webmanifest"' in html


def test_app_shell_has_no_inline_script_or_style(client):
    with client.get("/app/") as response:
        html = response.get_data(as_text=True)
    scripts = SCRIPT_TAG.findall(html)
    assert scripts and all("src=" in attributes for attributes in scripts)
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_app_shell_revalidates_with_an_etag(client):
    with client.get("/app/") as response:
        etag = response.headers["ETag"]
        assert response.headers["Cache-Control"] == "no-cache"
    with client.get("/app/", headers={"If-None-Match": etag}) as response:
        assert response.status_code == 304


def test_app_without_slash_redirects_to_the_app(client):
    with client.get("/app") as response:
        assert response.status_code == 308
        assert response.headers["Location"].endswith("/app/")


def test_offline_page_links_to_the_lap_counter(client):
    with client.get("/offline/") as response:
        assert response.status_code == 200
        assert 'href="/app/"' in response.get_data(as_text=True)
