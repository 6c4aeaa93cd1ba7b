"""Response headers that every page gets: a strict CSP with no inline script, and friends."""

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",  # blob: the phone's own photos, shown from IndexedDB
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Admin pages and API answers carry addresses, escorts' names and tokens: no browser or proxy
# may keep a copy. One rule by path, so a new admin page or endpoint cannot forget it.
PRIVATE_SECTIONS = ("admin", "api")


def _private(path: str) -> bool:
    """True for /admin, /admin/... and /api/... ."""
    return path.split("/", 2)[1] in PRIVATE_SECTIONS


def _set_headers(response):
    headers = response.headers
    if _private(request.path):
        headers["Cache-Control"] = "no-store"
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _refuse_nul_in_forms():
    """No text field here may hold a NUL character (PostgreSQL cannot store one): refuse it."""
    if request.method not in ("POST", "PUT", "PATCH") or request.mimetype not in FORM_TYPES:
        return
    if any("\x00" in value for _key, value in request.form.items(multi=True)):
        abort(400, "A field contains a NUL character.")


def init_app(app: Flask) -> None:
    """Install the header hooks, and ProxyFix when the app sits behind an HTTPS proxy."""
    app.before_request(_refuse_nul_in_forms)
    app.after_request(_set_headers)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
