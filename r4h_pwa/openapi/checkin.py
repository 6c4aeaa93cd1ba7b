"""OpenAPI part of the checkin blueprint: the run's roster for the phone."""

from .common import BEARER, errors, id_param, ok, ref

PATHS: dict = {
    "/api/v1/runs/{run_id}/checkins": {
        "get": {
            "summary": "The run's check-in roster, for the runner's phone to poll while online",
            "description": (
                "Check-ins made by QR code at /c/<token> and those added on the phone (which "
                "arrive with the synced run, upserted by their UUID), merged without duplicates, "
                "oldest first. Only the runner who owns the run may read it; any other run is "
                "404. The reply carries an ETag: send it back in If-None-Match to get 304 "
                "while nothing changed."
            ),
            "security": BEARER,
            "parameters": [
                id_param("run_id", "The run's UUID"),
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "required": False,
                    "description": "The ETag of the roster the phone already shows",
                    "schema": {"type": "string"},
                },
            ],
            "responses": {
                **ok("The roster", ref("CheckinRoster")),
                "304": {"description": "Unchanged since the ETag in If-None-Match"},
                **errors(401, 404),
            },
        }
    },
}

SCHEMAS: dict = {
    "CheckinRoster": {
        "type": "object",
        "required": ["checkins"],
        "properties": {"checkins": {"type": "array", "items": ref("Checkin")}},
    },
}
