"""FaTPay's envelope codes and the error the model raises.

The doc's envelope is ``{"code", "msg", "data"}``; ``data`` is null unless ``code`` is 10000.
Documented codes: 10000 success, 10002 incorrect params, 10003 signature error (also for an
unknown partner id and, decided here, a timestamp more than 60 s off). Not documented, chosen
here: 429 (with HTTP 429) for the budget, 500 (with HTTP 500) for the emulator's own failure.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CODE_INTERNAL", "CODE_OK", "CODE_PARAMS", "CODE_SIGNATURE", "CODE_TOO_MANY",
           "ApiError"]

CODE_OK: Final = 10000
CODE_PARAMS: Final = 10002
CODE_SIGNATURE: Final = 10003
CODE_TOO_MANY: Final = 429
CODE_INTERNAL: Final = 500


class ApiError(Exception):
    """An answer with a code other than 10000; ``msg`` goes to the envelope as is."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(code, msg)
        self.code = code
        self.msg = msg

    @classmethod
    def params(cls, detail: str) -> ApiError:
        return cls(CODE_PARAMS, f"incorrect params: {detail}")

    @classmethod
    def signature(cls, detail: str) -> ApiError:
        return cls(CODE_SIGNATURE, f"signature error: {detail}")
