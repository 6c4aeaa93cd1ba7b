"""Revocable sign-ins: Flask-Login's alternative id, and ending an account's sessions.

A session cookie (and a remember cookie) holds `Runner.get_id()`, which is
"<id>:<session_token>". Replacing the token makes every cookie that holds the old one
unknown to the user loader, so each copy of it stops working at once.
"""

import hmac

import sqlalchemy as sa

from ..extensions import db
from ..models import Device, Runner, new_token, utcnow


def load_runner(user_id: str) -> Runner | None:
    """Flask-Login's user loader: the account, if the cookie holds its current token."""
    account_id, _, token = user_id.partition(":")
    if not account_id.isdigit() or not token:
        return None
    runner = db.session.get(Runner, int(account_id))
    if runner is None or not hmac.compare_digest(runner.session_token, token):
        return None
    return runner


def end_browser_sessions(runner: Runner) -> None:
    """Every browser signed in as this account is signed out: a new session token."""
    runner.session_token = new_token()


def end_all_sessions(runner: Runner) -> None:
    """Sign the account out everywhere: every browser session and every device token."""
    end_browser_sessions(runner)
    if runner.id is None:
        return
    # Through the unit of work (an account has a few phones): the audit log sees each one.
    now = utcnow()
    for device in db.session.scalars(
        sa.select(Device).where(Device.runner_id == runner.id, Device.revoked_at.is_(None))
    ):
        device.revoked_at = now


def credentials_change(runner: Runner, values: dict) -> bool:
    """Whether an edit of the account ends its sessions: a new password or role, or disabling."""
    return (
        bool(values.get("password"))
        or values.get("role", runner.role) != runner.role
        or (runner.is_active_account and not values.get("is_active_account", True))
    )
