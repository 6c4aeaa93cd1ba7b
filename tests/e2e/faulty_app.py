"""The app behind a fault switch, for the browser tests: a file decides how /api/ answers.

The switch lives here, in the tests, so create_app reads no test-only setting. The file at
R4H_E2E_FAULT_FILE holds one word:
- "500": /api/ requests answer 500 at once, and the app never sees them;
- "500-after": the app handles the request (and commits), then the answer is lost to a 500;
- "new-sw": /sw.js comes with another VERSION, as after a deploy;
- anything else, or no file: normal service.
"""

import os
from pathlib import Path

from r4h_pwa import create_app

FAULT_BODY = b'{"error": {"code": "server_error", "message": "Injected fault.", "fields": {}}}'


class FaultSwitch:
    """WSGI middleware that makes /api/ answer 500 while the fault file says so."""

    def __init__(self, wsgi_app, fault_file: Path):
        self.wsgi_app = wsgi_app
        self.fault_file = fault_file

    def mode(self) -> str:
        """The fault in force, or "" for none."""
        try:
            return self.fault_file.read_text().strip()
        except FileNotFoundError:
            return ""

    def __call__(self, environ, start_response):
        mode = self.mode()
        if mode == "new-sw" and environ.get("PATH_INFO") == "/sw.js":
            return self.new_version(environ, start_response)
        if mode not in ("500", "500-after") or not environ.get("PATH_INFO", "").startswith("/api/"):
            return self.wsgi_app(environ, start_response)
        if mode == "500-after":
            answer = self.wsgi_app(environ, lambda *args, **kwargs: lambda data: None)
            try:
                for _ in answer:
                    pass
            finally:
                if hasattr(answer, "close"):
                    answer.close()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(FAULT_BODY)))]
        start_response("500 INTERNAL SERVER ERROR", headers)
        return [FAULT_BODY]

    def new_version(self, environ, start_response):
        """The app's /sw.js with its VERSION changed, so the browser sees a new worker."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)
            return lambda data: None

        answer = self.wsgi_app(environ, capture)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        body = body.replace(b'const VERSION = "', b'const VERSION = "new-', 1)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


def create_faulty_app():
    """create_app() with the fault switch around it."""
    app = create_app()
    app.wsgi_app = FaultSwitch(app.wsgi_app, Path(os.environ["R4H_E2E_FAULT_FILE"]))
    return app
