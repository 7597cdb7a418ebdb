"""A secret string that never shows itself in reprs, logs, exceptions or JSON."""

from __future__ import annotations

import hashlib
import hmac
from typing import NoReturn

__all__ = ["Secret"]


class Secret:
    """Holds a credential. ``str()``/``repr()`` print ``'***'``; ``reveal()`` is explicit.

    Encoding it with msgspec/orjson/json fails (it is not a str), so it cannot leak into output
    by accident.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret value must be a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def encode(self) -> bytes:
        return self._value.encode()

    @property
    def fingerprint(self) -> str:
        """A short stable id for the credential (budget keys), not reversible to the secret."""
        return hashlib.sha256(b"bestrate:" + self._value.encode()).hexdigest()[:12]

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:  # refuse pickling into caches or logs
        raise TypeError("Secret cannot be pickled")
