"""FaTPay's RSA request signature, the verifier side, and the sandbox credentials.

String to sign (docs/providers.md, FaTPay): ``METHOD + host + path + "?" + k=v&k=v...`` where the map is
the four common headers under lower-cased names (``x-fp-nonce``, ``x-fp-partner-id``,
``x-fp-timestamp``, ``x-fp-version``; never the signature) plus the query parameters, empty values
dropped, keys sorted in ASCII order, values raw (as decoded from the query, not URL-encoded).
``X-Fp-Signature`` = base64(RSA-SHA256, PKCS#1 v1.5, partner's private key). The emulator holds
only the public key and accepts a signature made for the request's ``Host`` header (with or
without its port) or for the production host ``api.ramp.fatpay.xyz``.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Iterable, Mapping
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ...world import World

__all__ = ["PRODUCTION_HOST", "SIGNED_HEADERS", "candidate_hosts", "credentials",
           "load_public_key", "signing_map", "string_to_sign", "verify_signature"]

PRODUCTION_HOST: Final = "api.ramp.fatpay.xyz"
SIGNED_HEADERS: Final = ("X-Fp-Partner-Id", "X-Fp-Nonce", "X-Fp-Timestamp", "X-Fp-Version")
_ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_KEY_CACHE: Final[weakref.WeakKeyDictionary[World, dict[str, str]]] = weakref.WeakKeyDictionary()


def signing_map(headers: Mapping[str, str], query: Mapping[str, str]) -> dict[str, str]:
    """The signed map: lower-cased common headers plus query params, without empty values."""
    out = {k: v for k, v in query.items() if v != ""}
    for name in SIGNED_HEADERS:
        value = headers.get(name, "")
        if value != "":
            out[name.lower()] = value
    return out


def string_to_sign(method: str, host: str, path: str, params: Mapping[str, str]) -> str:
    """``METHOD + host + path + "?" + k=v&...`` over ``params`` sorted by key (ASCII)."""
    pairs = "&".join(f"{k}={params[k]}" for k in sorted(params) if params[k] != "")
    return f"{method.upper()}{host}{path}?{pairs}"


def candidate_hosts(host_header: str) -> tuple[str, ...]:
    """Hosts a client may have signed for: the Host header, it without the port, production."""
    out: list[str] = []
    host = host_header.strip()
    bare = host
    if host.startswith("["):
        bare = host[:host.find("]") + 1] if "]" in host else host
    elif host.count(":") == 1:
        bare = host.partition(":")[0]
    for h in (host, bare, PRODUCTION_HOST):
        if h and h not in out:
            out.append(h)
    return tuple(out)


def verify_signature(public_key: rsa.RSAPublicKey, signature: str,
                     messages: Iterable[str]) -> bool:
    """Is ``signature`` (standard base64) a valid RSA-SHA256 PKCS#1 v1.5 over any message?"""
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    if not raw:
        return False
    for message in messages:
        try:
            public_key.verify(raw, message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            continue
        return True
    return False


def load_public_key(creds: Mapping[str, str]) -> rsa.RSAPublicKey:
    """The partner's public key, from ``private_key_pem`` (or ``public_key_pem``) in ``creds``.

    Only the public half is kept: the real service never sees the private key.
    """
    pem = creds.get("private_key_pem")
    if pem:
        # only the public half is used: checking the private half's consistency (tens of ms
        # at every sandbox start) proves nothing here
        private = serialization.load_pem_private_key(pem.encode(), password=None,
                                                     unsafe_skip_rsa_key_validation=True)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("FaTPay keys are RSA keys")
        return private.public_key()
    pem = creds.get("public_key_pem")
    if not pem:
        raise ValueError("FaTPay credentials need private_key_pem (or public_key_pem)")
    public = serialization.load_pem_public_key(pem.encode())
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("FaTPay keys are RSA keys")
    return public


def _partner_id(world: World) -> str:
    out: list[str] = []
    i = 0
    while len(out) < 16:
        out.extend(_ALNUM[b % 62] for b in world.digest("credentials", "fatpay", "partner", i)
                   if b < 248)
        i += 1
    return "".join(out[:16])


def credentials(world: World) -> dict[str, str]:
    """``{"partner_id", "private_key_pem"}`` for ``world``'s sandbox.

    The partner id derives from the seed (16 alphanumerics, like the doc's ``mqMBpCIP630LJxLY``);
    the RSA-2048 key is fresh (PKCS#8 PEM, unencrypted) but generated once per world object, so
    repeated calls within one sandbox agree.
    """
    cached = _KEY_CACHE.get(world)
    if cached is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
        cached = _KEY_CACHE[world] = {"partner_id": _partner_id(world), "private_key_pem": pem}
    return dict(cached)
