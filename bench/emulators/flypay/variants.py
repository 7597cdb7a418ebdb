"""Where FlyPay's doc allows two readings: the sandbox variants (:mod:`..variants`).

* ``key_header`` -- the list of mandatory headers names ``Api-Key: {public_key}`` (flypay.txt
  line 6, and ``Api-key`` in the curl example), the next paragraph says "the ``Authorization``
  header must contain the public key" (line 9). ``api-key``: the key is read from ``Api-Key``
  only; ``authorization``: from ``Authorization`` only (raw, or ``Bearer <key>``). A key in the
  other header is a missing key (401, unsigned). Default: either header.
* ``errors`` -- the doc defines only the envelope, ``status: success|error`` plus ``message``
  (lines 57-66), and no HTTP status. ``http-status``: errors come with the HTTP status the
  emulator chose for each (401, 404, 413, 422, 429 ...; today's reading); ``http-200``: every
  error, a rate limit and a bad key included, is HTTP 200 with ``status: error`` and the
  message (a rate limit keeps its ``Retry-After`` header). An answer-side ambiguity: the default
  is ``http-status``.
"""

from __future__ import annotations

from typing import Final

from ..variants import Variant, VariantChoice

__all__ = ["VARIANTS", "error_status", "key_headers"]

VARIANTS: Final = (
    Variant("key_header", ("api-key", "authorization"),
            "the public key in Api-Key (header list) or in Authorization (next paragraph)",
            "lenient: accepts either header"),
    Variant("errors", ("http-status", "http-200"),
            "errors with an HTTP error status, or HTTP 200 + status: error (the doc names none)",
            "http-status"),
)


def key_headers(variants: VariantChoice) -> tuple[str, ...]:
    """The headers the calling key may come in, in the order they are tried."""
    return tuple(h for h, value in (("Api-Key", "api-key"), ("Authorization", "authorization"))
                 if variants.accepts("key_header", value))


def error_status(variants: VariantChoice, status: int) -> int:
    """The HTTP status an error answer is sent with in this variant."""
    return 200 if variants.active("errors") == "http-200" else status
