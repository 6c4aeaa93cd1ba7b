"""The OpenAPI 3.1 document of /api/v1/openapi.json, assembled from one part per blueprint.

Each module here is one blueprint's part, with PATHS and SCHEMAS; a new blueprint adds its
module to PARTS. tests/api/test_openapi.py keeps the document honest against app.url_map.
"""

from copy import deepcopy

from . import api, auth, checkin, coverage, flags, runs

PARTS = (api, auth, runs, checkin, flags, coverage)


def openapi_document() -> dict:
    """The whole OpenAPI 3.1 document as a dict, with every blueprint's paths and schemas."""
    paths: dict = {}
    schemas: dict = {}
    for part in PARTS:
        clash = (paths.keys() & part.PATHS.keys()) | (schemas.keys() & part.SCHEMAS.keys())
        if clash:
            raise ValueError(f"{part.__name__} redefines {sorted(clash)}")
        paths.update(part.PATHS)
        schemas.update(part.SCHEMAS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Running 4 Heroes API",
            "version": "1",
            "description": (
                "Offline-first lap counting, sync of finished runs, escort check-in and "
                "flag shipments. Errors always have the Error shape."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": deepcopy(paths),
        "components": {
            "schemas": deepcopy(schemas),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A device token from POST /api/v1/auth/token",
                }
            },
        },
    }
