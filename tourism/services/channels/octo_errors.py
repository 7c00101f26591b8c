"""What the OCTO API refuses, named as OCTO names it: an ``error`` code, a readable
``errorMessage`` and, where it helps, the id that was wrong (``productId``…)."""

from __future__ import annotations

from ...errors import DomainError

BAD_REQUEST = "BAD_REQUEST"
UNAUTHORIZED = "UNAUTHORIZED"
FORBIDDEN = "FORBIDDEN"
INVALID_PRODUCT_ID = "INVALID_PRODUCT_ID"
INVALID_OPTION_ID = "INVALID_OPTION_ID"
INVALID_UNIT_ID = "INVALID_UNIT_ID"
INVALID_AVAILABILITY_ID = "INVALID_AVAILABILITY_ID"
INVALID_BOOKING_UUID = "INVALID_BOOKING_UUID"
UNPROCESSABLE_ENTITY = "UNPROCESSABLE_ENTITY"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"

#: The HTTP status of each error; OCTO answers a refused request with 400 unless it is about
#: who is asking (401, 403) or a fault on our side (500).
STATUS = {UNAUTHORIZED: 401, FORBIDDEN: 403, INTERNAL_SERVER_ERROR: 500}


class OctoError(Exception):
    """A refusal the API answers with OCTO's error object. Messages are for the reseller's
    developers and stay in English, like the codes (the OCTO convention)."""

    def __init__(self, code: str, message: str, **fields: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = {name: str(value) for name, value in fields.items()}

    @property
    def status_code(self) -> int:
        return STATUS.get(self.code, 400)

    def body(self) -> dict:
        return {"error": self.code, "errorMessage": self.message, **self.fields}


def bad_request(message: str) -> OctoError:
    return OctoError(BAD_REQUEST, message)


def unprocessable(error: DomainError | str) -> OctoError:
    """A booking rule said no (sold out, closed, expired hold…): its own words."""
    return OctoError(UNPROCESSABLE_ENTITY, str(error))


def error_body(status: int, message: str) -> tuple[dict, int]:
    """OCTO's error object for an HTTP error raised outside the views (unknown path, wrong
    method, too large, rate limited, server fault)."""
    code = {401: UNAUTHORIZED, 403: FORBIDDEN}.get(status, BAD_REQUEST)
    if status >= 500:
        code = INTERNAL_SERVER_ERROR
    return {"error": code, "errorMessage": message}, status
