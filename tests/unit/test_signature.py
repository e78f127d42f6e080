import hashlib
import hmac

import pytest

from connectors.whatsapp import signature

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
