"""The JSON API for phones and other clients: health, bootstrap and the OpenAPI document."""

from .views import bp

__all__ = ["bp"]
