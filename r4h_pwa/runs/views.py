"""Sync of finished runs from phones, and the runner's runs."""

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("runs", __name__)
csrf.exempt(bp)  # bearer-token API
