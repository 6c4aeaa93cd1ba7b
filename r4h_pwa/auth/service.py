"""Account logic: checking passwords and issuing, listing and revoking device tokens."""

from datetime import timedelta
from functools import cache

import sqlalchemy as sa

from ..extensions import db
from ..models import Device, Runner, hash_token, new_token, utcnow


@cache
def _decoy() -> Runner:
    decoy = Runner(email="", name="", password_hash="")
    decoy.set_password("not-a-real-password")
    return decoy


def _waste_a_hash_check(password: str) -> None:
    """Check a throwaway hash, so an unknown email takes as long as a wrong password."""
    _decoy().check_password(password)


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
