"""Escort check-in by QR code."""

from flask import Blueprint

bp = Blueprint("checkin", __name__)
