"""The one error type of the user-pool API. The SDKs pick the exception class they raise
from `__type`, so every refusal names one of the error shapes of the cognito-idp model."""

from __future__ import annotations

GENERIC_LOGIN_FAILURE = "Incorrect username or password."


class ApiError(Exception):
    """A refusal the client caused: HTTP 400 with {"__type": name, "message": message}."""

    status = 400

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def invalid_parameter(message: str) -> ApiError:
    return ApiError("InvalidParameterException", message)


def not_authorized(message: str = GENERIC_LOGIN_FAILURE) -> ApiError:
    return ApiError("NotAuthorizedException", message)


def require_string(body: dict, name: str, max_length: int = 2048) -> str:
    """A required string member of the request, or InvalidParameterException."""
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise invalid_parameter(f"{name} is required and must be a string of at most "
                                f"{max_length} characters.")
    return value


def optional_string(body: dict, name: str, max_length: int = 2048) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length:
        raise invalid_parameter(f"{name} must be a string of at most {max_length} characters.")
    return value
