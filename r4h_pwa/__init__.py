"""r4h_pwa: the Running 4 Heroes app. create_app() reads like a table of contents."""

import os
from pathlib import Path

from flask import Flask

from . import (
    audit,
    cli,
    database,
    errors,
    formatting,
    jsonbody,
    logs,
    mail,
    metrics,
    pagecache,
    request_id,
    security,
)
from .admin import bp as admin_bp
from .api import bp as api_bp
from .auth import bp as auth_bp
from .auth import load_runner, twofactor_bp
from .checkin import bp as checkin_bp
from .coverage import bp as coverage_bp
from .extensions import csrf, db, limiter, login_manager, migrate
from .flags import bp as flags_bp
from .pages import bp as pages_bp
from .runs import bp as runs_bp

PACKAGE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-change-me"


def _asset_dir(name: str) -> str:
    """static/ or templates/: beside the package in a checkout, inside it in a wheel."""
    checkout = PACKAGE_DIR.parent / name
    return str(checkout if checkout.is_dir() else PACKAGE_DIR / f"_{name}")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, instance/config.py, R4H_* environment, then test_config."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder=_asset_dir("static"),
        template_folder=_asset_dir("templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=DEV_SECRET_KEY,
        SEALING_KEY=None,  # seals TOTP secrets at rest (sealing.py); None: SECRET_KEY serves
        SEALING_KEY_FALLBACKS=[],  # earlier SEALING_KEYs, while secrets move to the new one
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'r4h.sqlite'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        ORG_NAME="Running 4 Heroes",
        ORG_RETURN_ADDRESS="Running 4 Heroes\nPO Box 0000\nWinter Springs, FL 32708",
        MAX_CONTENT_LENGTH=1024 * 1024,
        DEVICE_TOKEN_DAYS=180,
        PASSWORD_HASH_METHOD="scrypt",
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        LOGIN_RATE_LIMIT="10 per minute",
        CHECKIN_RATE_LIMIT="10 per minute",  # per phone
        CHECKIN_ADDRESS_RATE_LIMIT="60 per minute",  # per address: a school's Wi-Fi is shared
        CHECKIN_REFUSED_RATE_LIMIT="20 per hour",  # refused submissions, per address
        CHECKIN_RUN_RATE_LIMIT="200 per hour",  # new check-ins stored, per run
        ACK_RATE_LIMIT="10 per hour",
        TIMEZONE="America/New_York",  # how dates and times read on pages and labels
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        PROXY_FIX=False,
        BACKUP_KEEP=14,  # how many backups `flask backup` keeps (None: no count limit)
        BACKUP_KEEP_DAYS=None,  # and, if set, it deletes backups older than this many days
        LOG_FORMAT="json",  # one JSON object per line, with the request id; "text": Flask's
        # Who may read /metrics: the client address after ProxyFix (see metrics.py).
        METRICS_ALLOWED_NETWORKS=["127.0.0.1/32", "::1/128"],
        PAGE_CACHE_URL=None,  # redis://host:6379/1 shared by all servers; see pagecache.py
        PAGE_CACHE_PREFIX="r4h:",
        PAGE_CACHE_SECONDS=3600,
        # wsgi.py (gunicorn) turns PRODUCTION on; then SQLite, memory:// limits and the dev
        # SECRET_KEY stop the start, unless the operator says so for the first two.
        PRODUCTION=False,
        ALLOW_SQLITE_IN_PRODUCTION=False,
        ALLOW_MEMORY_RATE_LIMITS_IN_PRODUCTION=False,
    )
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):  # the conventional name hosts set
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("R4H")
    if "DATABASE_URL" in app.config:  # R4H_DATABASE_URL, or DATABASE_URL in config.py
        app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["DATABASE_URL"])
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["PRODUCTION"]:
        _refuse_unsafe_production(app.config)

    _init_extensions(app)
    database.init_app(app)
    audit.init_app(app)
    jsonbody.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)
    request_id.init_app(app)
    mail.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)
    pagecache.init_app(app)
    cli.init_app(app)
    blueprints = (
        pages_bp,
        auth_bp,
        twofactor_bp,
        admin_bp,
        api_bp,
        runs_bp,
        checkin_bp,
        flags_bp,
        coverage_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app


class UnsafeProductionConfig(RuntimeError):
    """Production mode on a setup that cannot hold more than one process, or an open secret."""


def _refuse_unsafe_production(config) -> None:
    """Stop the start with one clear message listing every unsafe setting and its way out."""
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        problems.append(
            "SECRET_KEY is the development value: set R4H_SECRET_KEY to a long "
            "random string, e.g. from `openssl rand -hex 32`."
        )
    on_sqlite = config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    if on_sqlite and not config["ALLOW_SQLITE_IN_PRODUCTION"]:
        problems.append(
            "The database is SQLite: set DATABASE_URL=postgresql://user@host/db, or "
            "R4H_ALLOW_SQLITE_IN_PRODUCTION=true for a single-server site."
        )
    storage = config.get("RATELIMIT_STORAGE_URI", "memory://")
    if (
        config.get("RATELIMIT_ENABLED", True)
        and storage.startswith("memory://")
        and not config["ALLOW_MEMORY_RATE_LIMITS_IN_PRODUCTION"]
    ):
        problems.append(
            "Rate limits are counted in memory:// (each worker on its own): set "
            "R4H_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0, or "
            "R4H_ALLOW_MEMORY_RATE_LIMITS_IN_PRODUCTION=true for one worker."
        )
    if problems:
        raise UnsafeProductionConfig(
            "Refusing to start in production mode:\n- "
            + "\n- ".join(problems)
            + "\nSee deploy/README.md."
        )


def _normalise_db_url(url: str) -> str:
    """Point postgres:// and postgresql:// URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"))
    csrf.init_app(app)
    _warn_if_limits_are_per_process(app)  # before init_app, which fills in limiter defaults
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_runner)


def _warn_if_limits_are_per_process(app: Flask) -> None:
    """In production, memory:// lets every gunicorn worker count on its own: say so loudly."""
    in_production = app.config["PRODUCTION"]
    storage = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if (
        in_production
        and app.config.get("RATELIMIT_ENABLED", True)
        and storage.startswith("memory://")
    ):
        app.logger.warning(
            "Rate limits are kept in this process's memory (memory://): each gunicorn worker "
            "and each server counts on its own, so the login limit is multiplied by their "
            "number. Set R4H_RATELIMIT_STORAGE_URI=redis://host:6379 (see README, Production)."
        )
