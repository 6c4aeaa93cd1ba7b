"""Email addresses that people type: a length check, then the email-validator package.

No regular expression of ours: "a@" + "a." * N + "@" made the old one backtrack for seconds.
"""

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254  # the longest address SMTP can carry (RFC 5321)
INVALID = "Enter an email address, like runner@example.org."


def email_error(address: str) -> str | None:
    """Why this address cannot be an account's email, or None. Never looks the domain up."""
    if len(address) > MAX_LENGTH:  # before any parsing, so parsing time stays bounded
        return f"At most {MAX_LENGTH} characters."
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return INVALID
    return None
