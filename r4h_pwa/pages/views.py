"""The home page, and the PWA: the lap counter's app shell, manifest and service worker."""

import hashlib
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

bp = Blueprint("pages", __name__)

# What a service worker version is made of: every static file (the worker serves them all
# cache-first, so any change must bring a new version) and the pages it precaches. When one
# changes, /sw.js changes byte for byte and browsers install the new version by themselves.
SHELL_TEMPLATES = ("app/index.html", "pages/offline.html")
VERSION_PLACEHOLDER = 'const VERSION = "dev";'


def _no_cache(response):
    response.headers["Cache-Control"] = "no-cache"
    return response


def _static_page(template: str):
    """A page that is the same for everyone: revalidated by ETag, so a repeat costs a 304."""
    response = current_app.make_response(render_template(template))
    response.add_etag()
    return _no_cache(response.make_conditional(request))


@bp.get("/")
def get_home():
    """Signed-in admins go to the dashboard, runners to the lap counter; others see the welcome."""
    if current_user.is_authenticated:
        if current_user.is_admin:
            return redirect(url_for("admin.get_dashboard"))
        return redirect(url_for("pages.get_app"))
    return render_template("pages/home.html")


@bp.get("/app/")
def get_app():
    """The lap counter's app shell: the same static page for everyone, signed in by token."""
    return _static_page("app/index.html")


@bp.get("/offline/")
def get_offline():
    """What the service worker shows for a page that needs the network when there is none."""
    return _static_page("pages/offline.html")


@bp.get("/manifest.webmanifest")
def get_manifest():
    """The web app manifest, so the lap counter can be installed on a phone."""
    response = send_from_directory(
        current_app.static_folder, "manifest.webmanifest", mimetype="application/manifest+json"
    )
    return _no_cache(response)


@bp.get("/sw.js")
def get_service_worker():
    """The service worker, from the root so its scope can be the whole site, never cached."""
    source = (Path(current_app.static_folder) / "sw.js").read_text(encoding="utf-8")
    source = source.replace(VERSION_PLACEHOLDER, f'const VERSION = "{shell_version()}";', 1)
    response = current_app.response_class(source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    return _no_cache(response)


def shell_version() -> str:
    """A short hash of the app shell's files and pages: the service worker's cache version."""
    digest = hashlib.sha256()
    static = Path(current_app.static_folder)
    for path in sorted(p for p in static.rglob("*") if p.is_file()):
        digest.update(path.relative_to(static).as_posix().encode())
        digest.update(path.read_bytes())
    for name in SHELL_TEMPLATES:
        digest.update(render_template(name).encode())
    return digest.hexdigest()[:12]
