"""The fault kinds the sandbox can inject, by name (the keys of profiles and of the counters).

Generic kinds (every emulator, done by the shared middleware):

* ``http_5xx``: an HTTP 500 in the provider's own internal-error shape, or 502/503/504 as an HTML
  page from a proxy in front of it (statuses drawn from the profile's ``status_codes``).
* ``reset``: the connection closed with a TCP reset and no answer; half the time before the
  handler runs, half after it ran (the provider did the work, the answer is lost).
* ``stall``: nothing for ``stall_s`` seconds (longer than any client deadline), then the answer.
* ``trickle``: headers at once, then the body a few bytes at a time over ``trickle_s`` seconds.
* ``malformed_json``: the body truncated or garbled so it no longer parses.
* ``missing_field``: valid JSON with one field of the payload dropped.
* ``wrong_type``: valid JSON with one number or decimal string replaced by ``"abc"`` or a list.
* ``absurd_number``: valid JSON with one money field set to -5, 0, NaN or 1e300.
* ``rate_limit_storm``: the provider's own rate-limit answer with ``Retry-After`` to every call
  for ``storm_s`` seconds, whatever the budget.
* ``blocked_key``: the calling key blocked (FixedFloat-style) for ``block_s`` seconds, doubled at
  each later offence: every call with it gets the provider's rate-limit answer.

Provider kinds (an emulator implements them through its hooks):

* ``bad_signature`` / ``missing_signature``: FlyPay's response ``Signature`` header wrong or absent.
* ``expired_quote``: GatePay ``convert`` finds its (otherwise valid) quote expired: 400622.
* ``clock_skew``: the emulator's wall clock is ``skew_s`` seconds off for the request, so GatePay
  (10 s window, 400003) and FaTPay (60 s, 10003) reject correctly signed timestamps.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ABSURD_NUMBER",
    "BAD_SIGNATURE",
    "BLOCKED_KEY",
    "BODY_KINDS",
    "CLOCK_SKEW",
    "EXPIRED_QUOTE",
    "HTTP_5XX",
    "KINDS",
    "MALFORMED_JSON",
    "MISSING_FIELD",
    "MISSING_SIGNATURE",
    "PROVIDER_KINDS",
    "RATE_LIMIT_STORM",
    "RESET",
    "STALL",
    "TRICKLE",
    "WRONG_TYPE",
]

HTTP_5XX: Final = "http_5xx"
RESET: Final = "reset"
STALL: Final = "stall"
TRICKLE: Final = "trickle"
MALFORMED_JSON: Final = "malformed_json"
MISSING_FIELD: Final = "missing_field"
WRONG_TYPE: Final = "wrong_type"
ABSURD_NUMBER: Final = "absurd_number"
BAD_SIGNATURE: Final = "bad_signature"
MISSING_SIGNATURE: Final = "missing_signature"
RATE_LIMIT_STORM: Final = "rate_limit_storm"
BLOCKED_KEY: Final = "blocked_key"
EXPIRED_QUOTE: Final = "expired_quote"
CLOCK_SKEW: Final = "clock_skew"

#: Every kind, in the fixed order a request's single draw walks them.
KINDS: Final = (HTTP_5XX, RESET, STALL, TRICKLE, MALFORMED_JSON, MISSING_FIELD, WRONG_TYPE,
                ABSURD_NUMBER, BAD_SIGNATURE, MISSING_SIGNATURE, RATE_LIMIT_STORM, BLOCKED_KEY,
                EXPIRED_QUOTE, CLOCK_SKEW)
#: Kinds that rewrite the answer's body.
BODY_KINDS: Final = frozenset({MALFORMED_JSON, MISSING_FIELD, WRONG_TYPE, ABSURD_NUMBER})
#: Kinds only some emulators implement (through their hooks); elsewhere they do nothing.
PROVIDER_KINDS: Final = frozenset({BAD_SIGNATURE, MISSING_SIGNATURE, EXPIRED_QUOTE, CLOCK_SKEW})
