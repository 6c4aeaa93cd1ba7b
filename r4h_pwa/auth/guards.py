"""Who is asking: session users for pages, bearer device tokens for the phone's API."""

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort, g, request
from flask_login import current_user, login_required

from ..audit import act_as
from ..errors import ApiError
from ..extensions import db
from ..models import Device, Runner, hash_token, utcnow


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# The device and its runner in one round trip, built once: every request of the phone asks.
_DEVICE_BY_TOKEN = (
    sa.select(Device, Runner)
    .join(Runner, Device.runner_id == Runner.id)
    .where(Device.token_hash == sa.bindparam("token_hash"))
)


def authenticate_device() -> Device | None:
    """The device behind the request's bearer token; raises a 401 ApiError if it is bad."""
    token = _bearer_token()
    if token is None:
        return None
    # device.runner is then the loaded Runner, from the session, without another query.
    found = db.session.execute(_DEVICE_BY_TOKEN, {"token_hash": hash_token(token)}).first()
    device = found[0] if found is not None else None
    if device is None:
        raise ApiError(401, "token_invalid", "This device is not signed in. Sign in again.")
    if device.revoked_at is not None:
        raise ApiError(401, "token_revoked", "This device was signed out. Sign in again.")
    if not device.is_usable():
        raise ApiError(401, "token_expired", "This device's sign-in expired. Sign in again.")
    if not device.runner.is_active:
        raise ApiError(401, "account_disabled", "This account is disabled.")
    return device


def device_required(view: Callable) -> Callable:
    """Require a valid bearer device token; sets g.device and g.runner."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        device = authenticate_device()
        if device is None:
            raise ApiError(401, "token_missing", "Sign in on this device first.")
        now = utcnow()
        # Touch last_used_at at most once an hour: no write on every request.
        if device.last_used_at is None or (now - device.last_used_at).total_seconds() > 3600:
            device.last_used_at = now
            db.session.commit()
        g.device = device
        g.runner = device.runner
        act_as(device.runner)
        return view(*args, **kwargs)

    wrapped.requires_device = True  # read by the OpenAPI test; wraps() carries it outward
    return wrapped


def current_actor() -> Runner | None:
    """The runner behind a bearer token, else the logged-in session user, else None."""
    device = authenticate_device()
    if device is not None:
        return device.runner
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def admin_required(view: Callable) -> Callable:
    """Require a logged-in admin; others get 403."""

    @login_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
