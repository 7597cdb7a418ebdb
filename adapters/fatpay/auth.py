"""FaTPay request signing: RSA-SHA256 (PKCS#1 v1.5) with the partner's private key.

Every call carries ``X-Fp-Partner-Id``, ``X-Fp-Nonce`` (digits), ``X-Fp-Timestamp`` (unix
**seconds**), ``X-Fp-Version`` (``v1.0``) and ``X-Fp-Signature`` = base64 of the signature over::

    METHOD + host (no scheme) + path + "?" + "k=v&k=v..."

where the map is the lower-cased ``x-fp-*`` headers (not the signature) plus the query params,
empty values dropped, keys sorted in ASCII order, values raw (not URL-encoded)
(``docs/providers.md`` has the known-answer text). :func:`string_to_sign` and :func:`sign` are pure; :class:`Signer`
adds the partner id, an injected clock and an injected nonce source.

The private key is loaded once (:meth:`PrivateKey.load`) and never shows itself: not in reprs,
not in messages, not in pickles.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Mapping
from typing import NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from router.errors import ConfigError
from router.secret import Secret

from .constants import API_VERSION

__all__ = ["PrivateKey", "Signer", "random_nonce", "sign", "string_to_sign"]

_ALLOWED_PEM = "an RSA private key in PEM form (PKCS#8 or PKCS#1), unencrypted"


def string_to_sign(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """The exact text FaTPay signs: ``METHOD host path ? k=v&...`` (see the module docstring).

    ``params`` holds both the lower-cased ``x-fp-*`` headers and the query parameters.
    """
    pairs = sorted((k, v) for k, v in params.items() if v is not None and v != "")
    return method.upper() + host + path + "?" + "&".join(f"{k}={v}" for k, v in pairs)


class PrivateKey:
    """The partner's RSA private key, hidden: ``repr`` shows ``***``, pickling is refused."""

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("FaTPay signs with an RSA private key")
        self._key = key

    @classmethod
    def load(cls, pem: Secret | str, field: str = "private_key_pem") -> PrivateKey:
        """Parse ``pem`` once; :class:`ConfigError` naming ``field`` (never echoing it) if bad.

        A PEM whose line breaks arrived as literal ``\\n`` (an environment variable) is accepted.
        """
        text = pem.reveal() if isinstance(pem, Secret) else pem
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(field, "is empty", _ALLOWED_PEM)
        if "\n" not in text.strip() and "\\n" in text:
            text = text.replace("\\n", "\n")
        try:
            key = serialization.load_pem_private_key(text.strip().encode(), password=None)
        except TypeError:
            raise ConfigError(field, "is encrypted", _ALLOWED_PEM) from None
        except (ValueError, UnsupportedAlgorithm):
            raise ConfigError(field, "is not a readable PEM private key", _ALLOWED_PEM) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ConfigError(field, "is not an RSA key", _ALLOWED_PEM)
        if key.key_size < 1024:
            raise ConfigError(field, "is shorter than 1024 bits", _ALLOWED_PEM)
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        """RSA-SHA256, PKCS#1 v1.5 padding."""
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def __repr__(self) -> str:
        return "PrivateKey('***')"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("PrivateKey cannot be pickled")


def sign(key: PrivateKey, message: str) -> str:
    """``X-Fp-Signature``: base64 of the RSA-SHA256 signature of ``message`` (UTF-8)."""
    return base64.b64encode(key.sign(message.encode())).decode("ascii")


def random_nonce() -> str:
    """A random six-digit positive integer, as the doc's example (``183216``)."""
    return str(100_000 + secrets.randbelow(900_000))


class Signer:
    """Signs FaTPay calls for one partner. ``clock`` gives unix seconds, ``nonce`` a digit string.

    Pure apart from what it is given: the same clock reading and nonce sign the same text.
    """

    __slots__ = ("_clock", "_key", "_nonce", "_partner", "_version")

    def __init__(
        self,
        partner_id: Secret,
        key: PrivateKey,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = random_nonce,
        version: str = API_VERSION,
    ) -> None:
        if not isinstance(partner_id, Secret) or not isinstance(key, PrivateKey):
            raise TypeError("partner_id must be a Secret and key a PrivateKey")
        self._partner = partner_id
        self._key = key
        self._clock = clock
        self._nonce = nonce
        self._version = version

    def __repr__(self) -> str:
        return f"Signer(partner={self.fingerprint}…, key='***')"

    @property
    def fingerprint(self) -> str:
        """The partner id's :attr:`~router.secret.Secret.fingerprint` (it names the client)."""
        return self._partner.fingerprint

    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    def headers(self, method: str, host: str, path: str,
                query: Mapping[str, str]) -> dict[str, str]:
        """The five ``X-Fp-*`` headers of one call to ``host`` + ``path`` with ``query``."""
        nonce = self._nonce()
        if not nonce.isdigit():
            raise ValueError("the FaTPay nonce must be digits")
        fp = {
            "X-Fp-Partner-Id": self._partner.reveal(),
            "X-Fp-Nonce": nonce,
            "X-Fp-Timestamp": str(int(self._clock())),
            "X-Fp-Version": self._version,
        }
        signed = {k.lower(): v for k, v in fp.items()}
        signed.update(query)
        fp["X-Fp-Signature"] = sign(self._key, string_to_sign(method, host, path, signed))
        return fp
