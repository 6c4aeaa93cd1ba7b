"""The WSGI entry point for gunicorn (`gunicorn wsgi:app`); the one module that builds an app.

It builds the app in production mode, so an unsafe setup stops the start (see deploy/README.md).
"""

from r4h_pwa import create_app

app = create_app({"PRODUCTION": True})
