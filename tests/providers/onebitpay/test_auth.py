"""1BitPay signer: the doc's worked example (known answers in docs/providers.md), header layout."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from adapters.onebitpay import Signer, canonical, sign
from router.secret import Secret

#: The doc's 签名示例: business params merged with the public params (without Sign).
DOC_PARAMS: dict[str, object] = {
    "orderNo": "Or12898771811",
    "name": "John Li",
    "TimeStamp": 1566781991111,
    "Nonce": "dnasja1N",
    "MerchantNo": "meraojiasdoa123",
    "Lang": "en",
    "SignType": "1",
    "ApiKey": "asdhuasdaosd",
}
DOC_SECRET = b"merasdasd"


def test_doc_example_string_is_sorted_case_insensitively() -> None:
    # exactly the string the doc prints (``name`` between MerchantNo and Nonce)
    assert canonical(DOC_PARAMS) == (
        "ApiKey=asdhuasdaosd&Lang=en&MerchantNo=meraojiasdoa123&name=John Li&Nonce=dnasja1N"
        "&orderNo=Or12898771811&SignType=1&TimeStamp=1566781991111")


def test_doc_example_known_answer() -> None:
    assert sign(DOC_PARAMS, DOC_SECRET) == "d826a31317bb52a1832cf023bc7b3a07"


def test_strict_ascii_order_gives_the_other_vector_which_we_do_not_use() -> None:
    strict = "&".join(f"{k}={DOC_PARAMS[k]}" for k in sorted(DOC_PARAMS))
    strict_sign = hashlib.md5(strict.encode() + DOC_SECRET).hexdigest()
    assert strict_sign == "ffa330626d0036b48cb877735b3ab8a0"
    assert sign(DOC_PARAMS, DOC_SECRET) != strict_sign


def test_sign_and_empty_values_are_left_out() -> None:
    extra = {**DOC_PARAMS, "Sign": "whatever", "syncUrl": "", "bankBranch": None}
    assert sign(extra, DOC_SECRET) == "d826a31317bb52a1832cf023bc7b3a07"


def test_value_texts() -> None:
    assert canonical({"h5": False, "kyc": 2, "cryptoAmount": Decimal("1E+1"), "b": True}) == (
        "b=true&cryptoAmount=10&h5=false&kyc=2")
    with pytest.raises(TypeError):
        canonical({"nested": {"a": 1}})


def test_signer_headers_are_reproducible_with_injected_clock_and_nonce() -> None:
    signer = Signer(Secret("meraojiasdoa123"), Secret("asdhuasdaosd"), Secret("merasdasd"),
                    clock=lambda: 1566781991.111, nonce=lambda: "dnasja1N")
    headers = signer.headers({"orderNo": "Or12898771811", "name": "John Li"})
    assert headers["TimeStamp"] == "1566781991111" and len(headers["TimeStamp"]) == 13
    assert headers["Nonce"] == "dnasja1N" and headers["SignType"] == "1"
    assert headers["MerchantNo"] == "meraojiasdoa123" and headers["ApiKey"] == "asdhuasdaosd"
    assert headers["Lang"] == "en" and headers["Content-Type"] == "application/json"
    assert headers["Sign"] == "d826a31317bb52a1832cf023bc7b3a07"
    assert "merasdasd" not in repr(signer) and "asdhuasdaosd" not in repr(signer)


def test_default_nonce_is_six_alphanumerics_and_fresh() -> None:
    signer = Signer(Secret("m"), Secret("k"), Secret("s"))
    nonces = {signer.headers({})["Nonce"] for _ in range(20)}
    assert len(nonces) > 1
    assert all(len(n) == 6 and n.isalnum() and n.isascii() for n in nonces)


def test_body_may_not_shadow_a_public_parameter() -> None:
    signer = Signer(Secret("m"), Secret("k"), Secret("s"))
    with pytest.raises(ValueError):
        signer.headers({"ApiKey": "other"})
