import hashlib
import hmac

import pytest

from cloudapi import signature

BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def meta_header(body: bytes, secret: str) -> str:
    # Written out independently of signature.sign(): what Meta documents.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_accepts_meta_signature_over_raw_bytes():
    assert signature.is_valid(BODY, meta_header(BODY, "s3cret"), "s3cret")


@pytest.mark.parametrize("header", [
    None, "", "sha256=", "sha1=" + hashlib.sha1(BODY).hexdigest(),
    meta_header(BODY, "other-secret"), meta_header(BODY + b" ", "s3cret"),
    meta_header(BODY, "s3cret").upper(),
])
def test_refuses_wrong_or_missing_signatures(header):
    assert not signature.is_valid(BODY, header, "s3cret")


@pytest.mark.parametrize("secret", [None, ""])
def test_fails_closed_without_a_secret(secret):
    assert not signature.is_valid(BODY, meta_header(BODY, ""), secret)


def test_one_changed_byte_breaks_the_signature():
    header = meta_header(BODY, "s3cret")
    tampered = BODY.replace(b"entry", b"entrz")
    assert not signature.is_valid(tampered, header, "s3cret")


@pytest.mark.parametrize("header", ["sha256=é" + "0" * 63, "sha256=ñandú", "sha256=" + "署" * 64])
def test_non_ascii_signatures_are_refused_not_raised(header):
    # hmac.compare_digest raises TypeError on non-ASCII str; the check compares bytes.
    assert not signature.is_valid(BODY, header, "s3cret")


def test_a_non_ascii_secret_still_signs_and_checks():
    assert signature.is_valid(BODY, meta_header(BODY, "sécret-秘密"), "sécret-秘密")


@pytest.mark.parametrize("given, expected", [
    ("トークン", 403), ("é", 403), ("verify-me", 200), ("", 403)])
def test_the_verify_token_compares_any_text(given, expected):
    from connectors.whatsapp.webhook import verify

    args = {"hub.mode": "subscribe", "hub.verify_token": given, "hub.challenge": "1158201444"}
    assert verify(args, "verify-me")[0] == expected
    assert verify({**args, "hub.verify_token": "verify-me"}, "トークン")[0] == 403


async def _chunks(*parts):
    it = iter(parts)

    async def read():
        return next(it, None)
    return read


async def test_a_body_is_read_only_up_to_the_limit():
    from connectors.whatsapp.webhook import read_limited

    assert await read_limited("6", await _chunks(b"abc", b"def"), 10) == b"abcdef"
    assert await read_limited(None, await _chunks(b"abc", b"def"), 10) == b"abcdef"
    assert await read_limited("11", await _chunks(), 10) is None  # declared too big: nothing read
    assert await read_limited(None, await _chunks(b"123456", b"789012"), 10) is None  # actual too big
    assert await read_limited("2", await _chunks(b"123456", b"789012"), 10) is None  # a lying header
