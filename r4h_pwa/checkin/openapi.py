"""OpenAPI paths and schemas of the checkin blueprint, merged into /api/v1/openapi.json."""

PATHS: dict = {}
SCHEMAS: dict = {}
