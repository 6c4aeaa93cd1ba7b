"""OpenAPI paths and schemas of the runs blueprint, merged into /api/v1/openapi.json."""

PATHS: dict = {}
SCHEMAS: dict = {}
