"""The WSGI entry point for gunicorn (`gunicorn wsgi:app`); the one module that builds an app."""

from r4h_pwa import create_app

app = create_app()
