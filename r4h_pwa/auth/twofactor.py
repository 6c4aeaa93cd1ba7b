"""Two-factor sign-in: TOTP from an authenticator app, and one-time recovery codes.

Admins must have it; runners are not asked. A TOTP code works once: the time step it was
made for is stored, and a code for the same or an earlier step is refused (RFC 6238, 5.2).
Recovery codes are stored as SHA-256 hashes (they carry 50 random bits) and each one is
spent atomically, so two requests racing with the same code cannot both pass.
"""

import re
import secrets
from datetime import datetime

import pyotp
import sqlalchemy as sa

from .. import pagecache
from ..extensions import db
from ..models import RecoveryCode, Runner, hash_token, utcnow
from ..sealing import UNREADABLE
from .sessions import end_all_sessions

RECOVERY_CODE_COUNT = 10
# One step either side of now: a phone clock off by up to 30 seconds still works.
VALID_WINDOW = 1
_TOTP_SHAPE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


def new_secret() -> str:
    """A fresh base32 secret for an authenticator app (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(email: str, secret: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step within the window whose code this is, or None."""
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def check_totp(secret: str, code: str, last_step: int | None, now: datetime | None = None):
    """The step of a valid, unused TOTP code for this secret, or None."""
    code = _clean(code)
    if not _TOTP_SHAPE.match(code):
        return None
    step = _matching_step(secret, code, now or utcnow())
    if step is None or (last_step is not None and step <= last_step):
        return None
    return step


def new_recovery_codes(runner: Runner) -> list[str]:
    """Replace the account's recovery codes with ten new ones; the plain codes, shown once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.runner_id == runner.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(runner_id=runner.id, code_hash=hash_token(raw)))
    return codes


def remaining_recovery_codes(runner: Runner) -> int:
    """How many of the account's recovery codes are still unused."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.runner_id == runner.id, RecoveryCode.used_at.is_(None))
    )


def _spend_recovery_code(runner: Runner, code: str) -> bool:
    """Mark an unused recovery code used, in one UPDATE; True if there was one."""
    result = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.runner_id == runner.id,
            RecoveryCode.code_hash == hash_token(_clean(code)),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def verify(runner: Runner, code: str) -> str | None:
    """Check a second factor: "totp" or "recovery" for a good code (now spent), else None."""
    if runner.totp_secret is None:
        return None
    # A secret no key opens (SEALING_KEY changed with no fallback) matches no code; the
    # recovery codes, stored as hashes, still work.
    step = (
        None
        if runner.totp_secret == UNREADABLE
        else check_totp(runner.totp_secret, code, runner.totp_last_step)
    )
    if step is not None:
        # Conditional, so two requests racing with one code cannot both pass. The secret is
        # sealed again, under the current SEALING_KEY if it was opened with a fallback.
        # Noted, and nothing touched: no page shows the step or the secret.
        result = db.session.execute(
            pagecache.noted(
                sa.update(Runner)
                .where(
                    Runner.id == runner.id,
                    sa.or_(Runner.totp_last_step.is_(None), Runner.totp_last_step < step),
                )
                .values(totp_last_step=step, totp_secret=runner.totp_secret)
                .execution_options(synchronize_session=False)
            )
        )
        if result.rowcount == 1:
            runner.totp_last_step = step
            return "totp"
        return None
    if len(_clean(code)) == 10 and _spend_recovery_code(runner, code):
        return "recovery"
    return None


def enrol(runner: Runner, secret: str, code: str) -> list[str] | None:
    """Turn two-factor sign-in on with a code from the app; the recovery codes, else None."""
    step = check_totp(secret, code, None)
    if step is None:
        return None
    runner.totp_secret = secret
    runner.totp_last_step = step
    return new_recovery_codes(runner)


def reset(runner: Runner) -> None:
    """Turn two-factor sign-in off (the operator's reset); signs the account out everywhere."""
    runner.totp_secret = None
    runner.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.runner_id == runner.id))
    end_all_sessions(runner)
