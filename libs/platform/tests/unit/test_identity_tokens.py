"""Signed bearer tokens (R-AUTH-1)."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from crm_platform.identity.errors import InvalidToken
from crm_platform.identity.tokens import issue_token, verify_token

SECRET = "first-key-0123456789"
NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _reason(secret: str, token, now: datetime = NOW) -> str:
    with pytest.raises(InvalidToken) as refused:
        verify_token(secret, token, now)
    return refused.value.reason


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip_gives_back_account_user_and_token_id():
    # R-AUTH-1: the token names one account and one user.
    token, issued = issue_token(SECRET, account_id=7, user_id=42, ttl=HOUR, now=NOW)
    claims = verify_token(SECRET, token, NOW + timedelta(minutes=59))
    assert claims == issued
    assert (claims.account_id, claims.user_id) == (7, 42)
    assert claims.expires_at == NOW + HOUR
    assert token.startswith("crm1.") and token.count(".") == 2


def test_each_token_gets_its_own_id():
    first, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    second, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    assert verify_token(SECRET, first, NOW).token_id != verify_token(SECRET, second, NOW).token_id


def test_token_ids_never_read_as_a_command_line_option():
    # `crm-admin token revoke --token-id <id>`: an id starting with '-' was taken for an
    # option (1 in 64 urlsafe ids), and the revoke failed
    ids = {issue_token(SECRET, 1, 2, timedelta(hours=1))[1].token_id for _ in range(500)}
    assert len(ids) == 500
    assert all(token_id[0].isalnum() for token_id in ids)


def test_payload_is_not_a_place_for_permissions():
    # Permissions come from the directory on every request, so the token holds only identity.
    token, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert set(payload) == {"acc", "usr", "jti", "iat", "exp"}


def test_tampered_payload_is_refused():
    # R-AUTH-1: another account cannot be reached by editing the token.
    token, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    prefix, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["acc"] = 8
    forged = f"{prefix}.{_encode(json.dumps(data, separators=(',', ':')).encode())}.{signature}"
    assert _reason(SECRET, forged) == "bad_signature"


def test_tampered_signature_is_refused():
    token, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    prefix, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[0] ^= 0x01
    assert _reason(SECRET, f"{prefix}.{payload}.{_encode(bytes(raw))}") == "bad_signature"


def test_non_canonical_signature_spelling_is_refused():
    # The last base64 character of a 32-byte signature carries 2 unused bits;
    # changing them decodes to the same bytes but must not give a second valid spelling.
    token, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    prefix, payload, signature = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    respelled = signature[:-1] + alphabet[last ^ 0x01]
    assert base64.urlsafe_b64decode(respelled + "=") == base64.urlsafe_b64decode(signature + "=")
    assert _reason(SECRET, f"{prefix}.{payload}.{respelled}") == "malformed"


def test_expired_token_is_refused_at_its_expiry():
    token, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    assert verify_token(SECRET, token, NOW + HOUR - timedelta(seconds=1))
    assert _reason(SECRET, token, NOW + HOUR) == "expired"


def test_token_signed_with_another_secret_is_refused():
    token, _ = issue_token("some-other-key", 7, 42, HOUR, NOW)
    assert _reason(SECRET, token) == "bad_signature"


def test_rotation_first_key_signs_every_key_verifies():
    old_token, _ = issue_token("old-key", 7, 42, HOUR, NOW)
    rotated = "new-key, old-key"
    new_token, _ = issue_token(rotated, 7, 42, HOUR, NOW)
    assert verify_token(rotated, old_token, NOW).user_id == 42
    assert verify_token("new-key", new_token, NOW).user_id == 42
    assert _reason("old-key", new_token) == "bad_signature"
    # Once the old key is dropped, its tokens stop working.
    assert _reason("new-key", old_token) == "bad_signature"


def test_empty_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        issue_token(" , ", 7, 42, HOUR, NOW)
    with pytest.raises(ValueError):
        verify_token("", "crm1.a.b", NOW)


def test_valid_signature_over_a_bad_payload_is_malformed():
    # Even a correctly signed payload must have the expected shape.
    import hashlib
    import hmac

    for payload in (
        b"[]",
        b"not json",
        b"\xff\xfe",
        json.dumps({"acc": True, "usr": 1, "jti": "x", "iat": 0, "exp": 10**12}).encode(),
        json.dumps({"acc": 1, "usr": 1, "jti": "", "iat": 0, "exp": 10**12}).encode(),
        json.dumps({"acc": 1, "usr": 1, "jti": "x", "iat": 0, "exp": 10**30}).encode(),
    ):
        body = f"crm1.{_encode(payload)}"
        signature = _encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())
        assert _reason(SECRET, f"{body}.{signature}") == "malformed", payload


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "..",
        "crm1..",
        "crm1.a",
        "crm1.a.b.c",
        "crm2.abc.def",
        "crm1.@@@.###",
        "crm1.abc.d",
        "crm1.a=.b=",
        "Bearer crm1.a.b",
        "crm1." + "A" * 5000 + ".b",
        "crm1.\u00e9\u00e9.\u00e9",
        "\x00\x00",
        None,
        12345,
        b"crm1.a.b",
    ],
)
def test_garbage_never_raises_anything_but_invalid_token(garbage):
    assert _reason(SECRET, garbage) in {"malformed", "bad_signature"}


def test_fuzzed_tokens_only_ever_raise_invalid_token():
    import random

    token, _ = issue_token(SECRET, 7, 42, HOUR, NOW)
    rng = random.Random(1)
    alphabet = "crm1.ABCxyz019-_=+/ \u00e9\x00"
    for _ in range(2000):
        chars = list(token)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(chars))
            chars[position] = rng.choice(alphabet)
        mutated = "".join(chars)
        if mutated == token:
            continue
        with pytest.raises(InvalidToken):
            verify_token(SECRET, mutated, NOW)
