"""Account logic: checking passwords and issuing, listing and revoking device tokens."""

from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Device, Runner, hash_token, new_token, utcnow


@cache
def _decoy(method: str) -> str:
    """A throwaway hash made with the app's own method, so that checking it costs the same."""
    return generate_password_hash("not-a-real-password", method=method)


def _waste_a_hash_check(password: str) -> None:
    """Check a throwaway hash, so an unknown email takes as long as a wrong password."""
    check_password_hash(_decoy(current_app.config["PASSWORD_HASH_METHOD"]), password)


def authenticate(email: str, password: str) -> Runner | None:
    """The active runner with this email and password, or None."""
    runner = db.session.scalar(sa.select(Runner).where(Runner.email == email.strip().lower()))
    if runner is None:
        _waste_a_hash_check(password)
        return None
    if not runner.check_password(password) or not runner.is_active:
        return None
    return runner


def issue_device_token(runner: Runner, device_name: str, days: int) -> tuple[str, Device]:
    """Create a device for the runner; the plain token is returned once and stored hashed."""
    token = new_token()
    device = Device(
        runner=runner,
        name=device_name,
        token_hash=hash_token(token),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(device)
    return token, device


def revoke_device(device: Device) -> None:
    """Sign the device out; its token stops working at once."""
    if device.revoked_at is None:
        device.revoked_at = utcnow()
