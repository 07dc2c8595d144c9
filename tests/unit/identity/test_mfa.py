"""TOTP as Cognito does it: RFC 4226/6238 vectors, codes from pyotp (what authenticator apps
compute) accepted one step either side and no further, and no code accepted twice."""

from __future__ import annotations

import re

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authgate.identity import mfa

RFC_KEY = b"12345678901234567890"
NOW = 1_767_225_615.0  # 15 s into a step, so ±30 s lands mid-step too


# --- RFC vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counter", "code"),
    list(
        enumerate(
            [
                "755224",
                "287082",
                "359152",
                "969429",
                "338314",
                "254676",
                "287922",
                "162583",
                "399871",
                "520489",
            ]
        ),
    ),
)
def test_rfc4226_appendix_d(counter: int, code: str) -> None:
    assert mfa.hotp(RFC_KEY, counter) == code


@pytest.mark.parametrize(
    ("epoch", "step", "code"),
    [
        (59, 0x1, "94287082"),
        (1111111109, 0x23523EC, "07081804"),
        (1111111111, 0x23523ED, "14050471"),
        (1234567890, 0x273EF07, "89005924"),
        (2000000000, 0x3F940AA, "69279037"),
        (20000000000, 0x27BC86AA, "65353130"),
    ],
)
def test_rfc6238_appendix_b_sha1(epoch: int, step: int, code: str) -> None:
    assert mfa.time_step(epoch) == step
    assert mfa.totp(RFC_KEY, epoch, digits=8) == code
    assert mfa.totp(RFC_KEY, epoch) == code[-6:]


def test_counters_are_unsigned_64_bit() -> None:
    assert mfa.hotp(RFC_KEY, 2**64 - 1).isdigit()
    for counter in (-1, 2**64):
        with pytest.raises(ValueError, match="64-bit"):
            mfa.hotp(RFC_KEY, counter)


def test_the_first_steps_after_the_epoch_verify() -> None:
    secret = mfa.generate_secret()
    for now in (0.0, 29.0, 30.0):
        code = pyotp.TOTP(secret).at(int(now))
        assert mfa.verify(secret, code, now=now, last_used_step=None) == mfa.time_step(now)


# --- secrets and URIs ---------------------------------------------------------------------


def test_secret_codes_have_cognitos_shape() -> None:
    drawn = {mfa.generate_secret() for _ in range(100)}
    assert len(drawn) == 100
    for secret in drawn:
        assert re.fullmatch(r"[A-Z2-7]{52}", secret), secret
        assert len(mfa.secret_key(secret)) == mfa.SECRET_BYTES


def test_secret_codes_come_from_the_injected_source() -> None:
    secret = mfa.generate_secret(random_bytes=lambda size: bytes(range(size)))
    assert mfa.secret_key(secret) == bytes(range(32))
    assert secret == "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQTCQKRMFYYDENBWHA5DYPQ"
    assert mfa.generate_secret(size=20, random_bytes=lambda size: RFC_KEY) == (
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's key: 32 characters
    )


def test_short_secrets_and_short_draws_are_refused() -> None:
    with pytest.raises(ValueError, match="128 bits"):
        mfa.generate_secret(size=15)
    with pytest.raises(ValueError, match="returned 3 bytes"):
        mfa.generate_secret(random_bytes=lambda size: b"abc")


def test_secret_key_reads_any_case_and_padding() -> None:
    assert mfa.secret_key("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") == RFC_KEY
    assert mfa.secret_key("gezdgnbvgy3tqojqgezdgnbvgy3tqojq") == RFC_KEY
    assert mfa.secret_key("MZXW6===") == b"foo"
    assert mfa.secret_key("MZXW6") == b"foo"
    for bad in ["MZXW1", "not base32!", "A"]:
        with pytest.raises(ValueError, match="base32"):
            mfa.secret_key(bad)


def test_otpauth_uri() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    uri = mfa.otpauth_uri(secret, account="alice@example.com", issuer="My Pool")
    assert uri == (
        "otpauth://totp/My%20Pool:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        "&issuer=My%20Pool&algorithm=SHA1&digits=6&period=30"
    )


@pytest.mark.parametrize(
    ("account", "issuer"),
    [
        ("alice@example.com", "authgate"),
        ("34c84488-e0e1-70ae-d2ee-991ad1a898c8", "My Pool"),
        ("bob:builder", "Issuer & Co / test?"),
        ("Jürgen", "Ünïcode ✓"),
    ],
)
def test_authenticator_apps_read_our_uri(account: str, issuer: str) -> None:
    secret = mfa.generate_secret()
    otp = pyotp.parse_uri(mfa.otpauth_uri(secret, account=account, issuer=issuer))
    assert isinstance(otp, pyotp.TOTP)
    assert otp.secret == secret
    assert otp.name == account
    assert otp.issuer == issuer
    assert (otp.digits, otp.interval) == (6, 30)
    key = mfa.secret_key(secret)
    assert [otp.at(NOW + d) for d in range(-90, 91, 30)] == [
        mfa.totp(key, NOW + d) for d in range(-90, 91, 30)
    ]


# --- verification -----------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, -30, 30, -15, 14])
def test_pyotp_codes_within_one_step_are_accepted(offset: int) -> None:
    secret = mfa.generate_secret()
    code = pyotp.TOTP(secret).at(int(NOW + offset))
    step = mfa.verify(secret, code, now=NOW, last_used_step=None)
    assert step == mfa.time_step(NOW + offset)


@pytest.mark.parametrize("offset", [-60, 60, -90, 90, 3600])
def test_pyotp_codes_two_steps_away_are_refused(offset: int) -> None:
    secret = mfa.generate_secret(
        random_bytes=lambda size: RFC_KEY[:size] + bytes(max(0, size - 20))
    )
    code = pyotp.TOTP(secret).at(int(NOW + offset))
    near = {pyotp.TOTP(secret).at(int(NOW + d)) for d in (-30, 0, 30)}
    assert code not in near  # this secret has no coincidental match at these times
    assert mfa.verify(secret, code, now=NOW, last_used_step=None) is None


def test_the_window_can_be_narrowed() -> None:
    secret = mfa.generate_secret()
    late = pyotp.TOTP(secret).at(int(NOW - 30))
    assert mfa.verify(secret, late, now=NOW, last_used_step=None, window=0) is None
    assert mfa.verify(secret, late, now=NOW, last_used_step=None, window=1) is not None


def test_a_code_is_good_once() -> None:
    secret = mfa.generate_secret()
    totp = pyotp.TOTP(secret)
    step = mfa.verify(secret, totp.at(int(NOW)), now=NOW, last_used_step=None)
    assert step == mfa.time_step(NOW)
    # The same code again, even a few seconds later, is refused.
    assert mfa.verify(secret, totp.at(int(NOW)), now=NOW + 5, last_used_step=step) is None
    # So is the previous step's code, though it is still inside the window.
    assert mfa.verify(secret, totp.at(int(NOW - 30)), now=NOW, last_used_step=step) is None
    # The next step's code is fresh.
    following = mfa.verify(secret, totp.at(int(NOW + 30)), now=NOW + 30, last_used_step=step)
    assert following == step + 1


def test_a_used_step_refuses_only_itself_and_earlier() -> None:
    secret = mfa.generate_secret()
    early = pyotp.TOTP(secret).at(int(NOW + 30))
    current = mfa.time_step(NOW)
    assert mfa.verify(secret, early, now=NOW, last_used_step=current) == current + 1
    assert mfa.verify(secret, early, now=NOW, last_used_step=current + 1) is None


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "12 456", "12a456", "\u0661\u0662\u0663\u0664\u0665\u0666", "+12345"],
)
def test_malformed_codes_are_refused(code: str) -> None:
    secret = mfa.generate_secret()
    assert mfa.verify(secret, code, now=NOW, last_used_step=None) is None


def test_a_wrong_code_is_refused() -> None:
    secret = mfa.generate_secret()
    near = {pyotp.TOTP(secret).at(int(NOW + d)) for d in (-30, 0, 30)}
    wrong = next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in near)
    assert mfa.verify(secret, wrong, now=NOW, last_used_step=None) is None


@settings(max_examples=100, deadline=None)
@given(
    raw=st.binary(min_size=16, max_size=40),
    now=st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False),
)
def test_property_pyotp_agrees_with_us(raw: bytes, now: float) -> None:
    secret = mfa.generate_secret(size=len(raw), random_bytes=lambda size: raw)
    code = pyotp.TOTP(secret).at(int(now))
    assert code == mfa.totp(raw, now)
    assert mfa.verify(secret, code, now=now, last_used_step=None) is not None
