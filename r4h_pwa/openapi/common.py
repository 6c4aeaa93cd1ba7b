"""Building blocks for the OpenAPI parts in this package: types, responses, text fields."""

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


# The server strips text (str.strip), then refuses a required field left empty, and any text
# holding a NUL (validation.Fields.text). These patterns say the same, so a schema-valid request
# is one the server takes: no NUL at all and, for a required field, at least one character that
# str.strip() keeps. The white space is listed from Python itself: a regex's \s differs
# between engines (ECMA's leaves out U+001C-U+001F and U+0085, which str.strip() removes).
SPACE = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = f"^[^\\u0000]*[^{SPACE}\\u0000][^\\u0000]*$"


def text(max_length: int, description: str = "", *, required: bool = False) -> dict:
    """A text field as Fields.text reads it: at most max_length characters, no NUL, and for a
    required field at least one character that is not white space."""
    schema: dict = {"type": "string", "maxLength": max_length}
    if required:
        schema.update(minLength=1, pattern=NOT_BLANK)
    else:
        schema["pattern"] = NO_NUL
    if description:
        schema["description"] = description
    return schema


# Any JSON value the strict reader (r4h_pwa/jsonbody.py) takes: integers within signed 64 bits.
# Request objects ignore fields they do not name (additionalProperties: JsonValue), but read
# every value by this rule: a body with a number outside 64 bits anywhere is a 400.
JSON_VALUE = {
    "description": "Any JSON value whose integers fit in signed 64 bits",
    "anyOf": [
        {"type": ["string", "boolean", "null"]},
        {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
        {"type": "number", "not": {"type": "integer"}},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}},
    ],
}
