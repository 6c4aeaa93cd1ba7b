"""Building blocks for OpenAPI fragments, shared by every blueprint's openapi.py."""

STR = {"type": "string"}
NULL_STR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NULL_INT = {"type": ["integer", "null"]}
BOOL = {"type": "boolean"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def jsonbody(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def ok(description: str, schema: dict, status: str = "200") -> dict:
    return {status: {"description": description, **jsonbody(schema)}}


def errors(*statuses: int) -> dict:
    """Error responses in the Error shape; every operation can also answer 503 (retry)."""
    names = {
        400: "Malformed request (bad JSON)",
        401: "Missing, invalid, expired or revoked credentials",
        403: "Not allowed",
        404: "Unknown id",
        409: "Conflicting state",
        413: "Body larger than the limit",
        415: "Body is not JSON",
        422: "Invalid fields; error.fields names each one",
        429: "Rate limited",
        503: "The database is unavailable for a moment; retry after Retry-After seconds",
    }
    error = jsonbody(ref("Error"))
    return {str(status): {"description": names[status], **error} for status in (*statuses, 503)}


def id_param(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "maxLength": 64},
    }


BEARER = [{"bearer": []}]
