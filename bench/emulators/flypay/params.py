"""Request-field validation for the FlyPay emulator, and its one error type.

FlyPay documents no error codes; the emulator answers an error as HTTP status + ``{"status":
"error", "message": ..., "data": null}``. :class:`ApiError` carries that status and message;
these helpers raise it with HTTP 422 (the usual status of a validation failure) for a missing or
bad field.
Amounts may come as JSON numbers or numeric strings and are read exactly (``Decimal``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from ..common import to_decimal

__all__ = ["ApiError", "amount", "email", "int_field", "ip", "optional_str", "required_str",
           "url"]

UNPROCESSABLE: Final = 422
_MAX_AMOUNT: Final = Decimal(10) ** 15
_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_STR: Final = 255


class ApiError(Exception):
    """An error answer: HTTP ``status`` and the envelope's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


def _invalid(message: str) -> ApiError:
    return ApiError(UNPROCESSABLE, message)


def required_str(params: Mapping[str, Any], name: str) -> str:
    """A non-empty string field (surrounding spaces dropped), at most 255 characters."""
    value = params.get(name)
    if value is None or value == "":
        raise _invalid(f"The {name} field is required.")
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"The {name} field must be a string.")
    if len(value) > _MAX_STR:
        raise _invalid(f"The {name} field must not be greater than {_MAX_STR} characters.")
    return value.strip()


def optional_str(params: Mapping[str, Any], name: str) -> str | None:
    """A string field that may be absent, null or empty (then None)."""
    if params.get(name) in (None, ""):
        return None
    return required_str(params, name)


def amount(params: Mapping[str, Any], name: str = "amount") -> Decimal:
    """A positive amount from a JSON number or numeric string (never through float)."""
    if params.get(name) is None:
        raise _invalid(f"The {name} field is required.")
    value = to_decimal(params[name])
    if value is None:
        raise _invalid(f"The {name} field must be a number.")
    if value <= 0 or value > _MAX_AMOUNT:
        raise _invalid(f"The {name} field must be greater than 0.")
    return value


def int_field(params: Mapping[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    """An optional integer in ``[lo, hi]`` (numeric strings accepted)."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise _invalid(f"The {name} field must be an integer.")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _invalid(f"The {name} field must be an integer.")
    if not lo <= value <= hi:
        raise _invalid(f"The {name} field must be between {lo} and {hi}.")
    return value


def email(params: Mapping[str, Any], name: str = "client_email", *,
          required: bool = True) -> str | None:
    value = required_str(params, name) if required else optional_str(params, name)
    if value is not None and not _EMAIL_RE.match(value):
        raise _invalid(f"The {name} field must be a valid email address.")
    return value


def ip(params: Mapping[str, Any], name: str = "client_ip", *, required: bool = True) -> str | None:
    value = required_str(params, name) if required else optional_str(params, name)
    if value is not None:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise _invalid(f"The {name} field must be a valid IP address.") from None
    return value


def url(params: Mapping[str, Any], name: str = "callback_url") -> str | None:
    value = optional_str(params, name)
    if value is not None and not value.startswith(("http://", "https://")):
        raise _invalid(f"The {name} field must be a valid URL.")
    return value
