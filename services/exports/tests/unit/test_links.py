from datetime import UTC, datetime, timedelta

import pytest

from crm_exports.domain.links import (
    EMAIL_LINK_TTL,
    STATUS_LINK_TTL,
    LinkExpired,
    LinkTampered,
    sign_download_link,
    verify_download_link,
)

SECRET = "test-secret"
NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_ttls_are_30_days_and_5_minutes():
    # R-EXP-5
    assert EMAIL_LINK_TTL == timedelta(days=30)
    assert STATUS_LINK_TTL == timedelta(minutes=5)


@pytest.mark.parametrize("ttl", [EMAIL_LINK_TTL, STATUS_LINK_TTL])
def test_link_valid_until_the_last_second_and_expired_at_the_boundary(ttl):
    # R-EXP-5
    token = sign_download_link(SECRET, 1234, NOW + ttl)
    assert verify_download_link(SECRET, token, NOW) == "1234"
    assert verify_download_link(SECRET, token, NOW + ttl - timedelta(seconds=1)) == "1234"
    with pytest.raises(LinkExpired):
        verify_download_link(SECRET, token, NOW + ttl)
    with pytest.raises(LinkExpired):
        verify_download_link(SECRET, token, NOW + ttl + timedelta(days=1))


def test_changed_export_id_is_tampering():
    # R-EXP-5
    token = sign_download_link(SECRET, "1234", NOW + EMAIL_LINK_TTL)
    _, expiry, signature = token.split(".")
    with pytest.raises(LinkTampered):
        verify_download_link(SECRET, f"1235.{expiry}.{signature}", NOW)


def test_extended_expiry_is_tampering_not_a_longer_link():
    # R-EXP-5
    token = sign_download_link(SECRET, "1234", NOW + STATUS_LINK_TTL)
    export_id, expiry, signature = token.split(".")
    later = int(expiry) + 30 * 86400
    with pytest.raises(LinkTampered):
        verify_download_link(SECRET, f"{export_id}.{later}.{signature}", NOW)


def test_other_secret_is_tampering():
    token = sign_download_link("another-secret", "1234", NOW + EMAIL_LINK_TTL)
    with pytest.raises(LinkTampered):
        verify_download_link(SECRET, token, NOW)


def test_tampering_is_reported_even_when_also_expired():
    # R-EXP-5: a forged link is 403, never 410, whatever expiry it claims
    token = sign_download_link(SECRET, "1234", NOW - timedelta(days=1))
    export_id, expiry, signature = token.split(".")
    forged = signature[:-1] + ("B" if signature[-1] == "A" else "A")
    with pytest.raises(LinkTampered):
        verify_download_link(SECRET, f"{export_id}.{expiry}.{forged}", NOW)


@pytest.mark.parametrize("token", ["", "abc", "1.2", "1.x.sig", "1.2.3.4"])
def test_malformed_tokens_are_tampering(token):
    with pytest.raises(LinkTampered):
        verify_download_link(SECRET, token, NOW)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        sign_download_link(SECRET, "1", datetime(2025, 1, 1))
