"""Small pieces every provider client shares: Retry-After, decoding, message hygiene."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

import msgspec

from router.errors import MalformedResponse
from router.secret import Secret

__all__ = ["MSG_MAX", "clean", "decode", "retry_after"]

T = TypeVar("T")
#: Provider messages are cut to this many characters before they reach an error.
MSG_MAX = 160


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` header in seconds, if it is a sane number (0 to a day)."""
    raw = headers.get("Retry-After")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value < 86400 else None


def decode(decoder: msgspec.json.Decoder[T], data: msgspec.Raw | bytes, provider: str, what: str) -> T:
    """``decoder.decode(data)``; a shape the provider's docs do not allow is a MalformedResponse."""
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise MalformedResponse(provider, f"{what}: data does not match the documented "
                                f"shape ({exc})") from exc


def clean(msg: str | None, secrets: Iterable[Secret | str | None]) -> str:
    """A provider's message, short, with our credentials blanked out just in case."""
    text = (msg or "").strip()[:MSG_MAX]
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            text = text.replace(value, "***")
    return text
