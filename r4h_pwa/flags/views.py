"""Flag shipments, their labels, the family page and the wall of honour."""

from flask import Blueprint

bp = Blueprint("flags", __name__)
