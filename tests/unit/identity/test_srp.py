"""Cognito's SRP-6a: the spec's verified vector byte for byte, and sign-ins by pycognito's client
code (the code real users run) against our server side, through a sealed SECRET_BLOCK."""

from __future__ import annotations

import base64
import calendar
import datetime
import hashlib
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycognito.aws_srp import AWSSRP, pad_hex

from authgate.identity import secret_block, srp
from authgate.identity.srp import SrpRejected

# pycognito stamps TIMESTAMP with datetime.utcnow(), deprecated from Python 3.12 on.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycognito.aws_srp")

FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# userpool-srp.md §3.7 (verified against pycognito's client code).
POOL_ID = "us-east-1_TestPool1"
POOL = "TestPool1"
USER = "testuser"
PASSWORD = "Passw0rd!"
SALT = bytes.fromhex("1f2e3d4c5b6a79881f2e3d4c5b6a7988")
SMALL_A = int("a465a85151ccbf8522fb7bc29169df9370b7da383fc4785fba5100d1cdee89e8", 16)
SMALL_B = bytes.fromhex("2b77aec05c88750b3530e0c993677f2c7ac6a60ecd5042341b3be1ad82d37814")
VECTOR_BLOCK = "ZXhhbXBsZS1zZWNyZXQtYmxvY2s="
VECTOR_TIMESTAMP = "Tue Jan 2 03:04:05 UTC 2024"
VECTOR_NOW = calendar.timegm((2024, 1, 2, 3, 4, 5))

BLOCK_KEY = bytes(range(32))
CONTEXT = f"{POOL_ID}/client-1"


def fixed(*chunks: bytes) -> Callable[[int], bytes]:
    """A random source that hands out the given chunks in order (and fails if asked for more)."""
    pending: Iterator[bytes] = iter(chunks)

    def draw(size: int) -> bytes:
        chunk = next(pending)
        assert len(chunk) == size
        return chunk

    return draw


def hex_ends(n: int) -> tuple[str, str, int]:
    text = format(n, "x")
    return text[:16], text[-16:], len(text)


# --- group constants and the padding rule -------------------------------------------------


def test_group_constants_match_the_spec() -> None:
    assert hashlib.sha256(srp.N.to_bytes(384, "big")).hexdigest() == (
        "48cf8b092fbce4359d9871abf74f98e25b6163379eaa15cd9087e800c6d1c55c"
    )
    assert srp.G == 2
    assert format(srp.K, "064x") == (
        "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
    )


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "00"),
        (1, "01"),
        (0x7F, "7f"),
        (0x80, "0080"),
        (0xFF, "00ff"),
        (0x100, "0100"),
        (0x7FFF, "7fff"),
        (0x8000, "008000"),
    ],
)
def test_pad_is_javas_two_complement_form(n: int, expected: str) -> None:
    assert srp.pad(n).hex() == expected


def test_pad_of_n_has_a_leading_zero_byte() -> None:
    assert srp.pad(srp.N) == b"\x00" + srp.N.to_bytes(384, "big")


def test_pad_refuses_negative_numbers() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        srp.pad(-1)


@FAST
@given(st.integers(min_value=0, max_value=2**3100))
def test_pad_agrees_with_pycognito(n: int) -> None:
    assert srp.pad(n) == bytes.fromhex(pad_hex(n))


@pytest.mark.parametrize(
    ("pool_id", "name"),
    [("us-east-1_TestPool1", "TestPool1"), ("local_AbC123", "AbC123")],
)
def test_pool_name_is_what_follows_the_first_underscore(pool_id: str, name: str) -> None:
    assert srp.pool_name(pool_id) == name


@pytest.mark.parametrize(
    "pool_id", ["TestPool1", "_TestPool1", "us-east-1_", "local_AbC_123", "us-east-1_Test-Pool"]
)
def test_pool_name_refuses_ids_without_both_parts(pool_id: str) -> None:
    with pytest.raises(ValueError, match="not a user pool id"):
        srp.pool_name(pool_id)


# --- the verified test vector -------------------------------------------------------------


def test_vector_verifier() -> None:
    made = srp.make_verifier(POOL, USER, PASSWORD, random_bytes=fixed(SALT))
    assert made.salt == SALT
    assert format(srp.private_key(POOL, USER, PASSWORD, SALT), "064x") == (
        "4fb22ecb0abd1de4d6cdee74187a431b628e8e632f535a20ed2636c7800db964"
    )
    assert hex_ends(made.verifier) == ("2006e7138eccdd61", "141ff6889def911e", 768)


def test_vector_exchange_byte_for_byte() -> None:
    verifier = srp.make_verifier(POOL, USER, PASSWORD, random_bytes=fixed(SALT)).verifier
    big_a = pow(srp.G, SMALL_A, srp.N)
    assert hex_ends(big_a) == ("69d01096e869e57e", "2915ac52f85d3808", 768)

    challenge = srp.start_challenge(USER, format(big_a, "x"), verifier, random_bytes=fixed(SMALL_B))
    assert challenge.small_b == int.from_bytes(SMALL_B, "big")
    assert hex_ends(challenge.big_b) == ("5deec5916fe3706f", "a3ab90c90650692d", 768)

    u = srp.scrambler(challenge.big_a, challenge.big_b)
    assert format(u, "064x") == "8105341a37be8cce605f659aefe428abdce7cffe2048bf5f90d3bf15f724500b"
    premaster = srp.server_premaster(big_a, verifier, u, challenge.small_b)
    assert hex_ends(premaster) == ("3c8bab7c5bc00b6d", "0644ec826ac2e96b", 768)
    key = srp.derive_key(premaster, u)
    assert key.hex() == "9a2c0133685f1dd7c3dbdffaa45d5b07"

    signature = srp.claim_signature(
        key, POOL, USER, base64.b64decode(VECTOR_BLOCK), VECTOR_TIMESTAMP
    )
    assert base64.b64encode(signature).decode() == "rN7AcXPgPN2HeBz2SPlY52dvmt77az8Uqyh0ylFb+D8="


def _vector_challenge() -> tuple[srp.Challenge, int]:
    verifier = srp.make_verifier(POOL, USER, PASSWORD, random_bytes=fixed(SALT)).verifier
    big_a = format(pow(srp.G, SMALL_A, srp.N), "x")
    return srp.start_challenge(USER, big_a, verifier, random_bytes=fixed(SMALL_B)), verifier


def test_vector_signature_is_accepted_and_one_changed_byte_is_not() -> None:
    challenge, verifier = _vector_challenge()

    def verify(**changes: str) -> None:
        answer = {
            "secret_block": VECTOR_BLOCK,
            "timestamp": VECTOR_TIMESTAMP,
            "signature": "rN7AcXPgPN2HeBz2SPlY52dvmt77az8Uqyh0ylFb+D8=",
            **changes,
        }
        srp.verify_password_claim(
            challenge,
            pool_name=POOL,
            verifier=verifier,
            secret_block=answer["secret_block"],
            timestamp=answer["timestamp"],
            signature=answer["signature"],
            now=VECTOR_NOW,
        )

    verify()
    for changes, reason in [
        ({"signature": "sN7AcXPgPN2HeBz2SPlY52dvmt77az8Uqyh0ylFb+D8="}, "signature_mismatch"),
        ({"signature": "rN7AcXPgPN2HeBz2SPlY52dvmt77az8Uqyh0ylFb+D8"}, "signature_malformed"),
        ({"signature": "rN7AcXPgPN2HeBz2SPlY52dvmt77az8Uqyh0ylFb+D8=!"}, "signature_malformed"),
        ({"signature": ""}, "signature_mismatch"),
        ({"secret_block": "ZXhhbXBsZS1zZWNyZXQtYmxvY2t="}, "secret_block_malformed"),
        ({"secret_block": "ZXhhbXBsZS1zZWNyZXQtYmxvY2o="}, "signature_mismatch"),
        ({"secret_block": "not base64!"}, "secret_block_malformed"),
        ({"timestamp": "Tue Jan 2 03:04:06 UTC 2024"}, "signature_mismatch"),
        ({"timestamp": "Tue Jan 02 03:04:05 UTC 2024"}, "timestamp_malformed"),
    ]:
        with pytest.raises(SrpRejected) as caught:
            verify(**changes)
        assert caught.value.reason == reason, changes


def test_the_signature_binds_pool_user_and_verifier() -> None:
    challenge, verifier = _vector_challenge()
    other_user = srp.Challenge("testuser2", challenge.big_a, challenge.small_b, challenge.big_b)
    other_password = srp.make_verifier(POOL, USER, "Passw0rd?", random_bytes=fixed(SALT)).verifier
    for target, pool, v in [
        (challenge, "TestPool2", verifier),
        (other_user, POOL, verifier),
        (challenge, POOL, other_password),
    ]:
        with pytest.raises(SrpRejected, match="signature_mismatch"):
            srp.verify_password_claim(
                target,
                pool_name=pool,
                verifier=v,
                secret_block=VECTOR_BLOCK,
                timestamp=VECTOR_TIMESTAMP,
                signature="rN7AcXPgPN2HeBz2SPlY52dvmt77az8Uqyh0ylFb+D8=",
                now=VECTOR_NOW,
            )


@pytest.mark.parametrize(
    "text",
    ["ZXhhbXBsZS1zZWNyZXQtYmxvY2t=", "ZXhhbXBsZS1zZWNyZXQtYmxvY2s", "ZXhh YmxvY2s=", "Zm9v\n", "é"],
)
def test_only_canonical_base64_is_read(text: str) -> None:
    with pytest.raises(SrpRejected, match=r"^why$"):
        srp.canonical_b64decode(text, "why")


def test_canonical_base64_round_trips() -> None:
    assert srp.canonical_b64decode(VECTOR_BLOCK, "why") == b"example-secret-block"
    assert srp.canonical_b64decode("", "why") == b""


# --- verifier creation and the server's ephemeral ------------------------------------------


def test_salts_never_start_with_a_zero_byte() -> None:
    zero_first = b"\x00" + SALT[1:]
    made = srp.make_verifier(POOL, USER, PASSWORD, random_bytes=fixed(zero_first, SALT))
    assert made.salt == SALT


def test_a_random_source_that_never_helps_is_refused_not_looped_on() -> None:
    with pytest.raises(RuntimeError, match="random source"):
        srp.make_verifier(POOL, USER, PASSWORD, random_bytes=lambda size: bytes(size))
    with pytest.raises(RuntimeError, match="random source"):
        srp.server_ephemeral(12345, random_bytes=lambda size: bytes(size))
    with pytest.raises(ValueError, match="returned 3 bytes"):
        srp.make_verifier(POOL, USER, PASSWORD, random_bytes=lambda size: b"abc")


def test_an_all_zero_ephemeral_is_drawn_again() -> None:
    ephemeral = srp.server_ephemeral(12345, random_bytes=fixed(bytes(32), SMALL_B))
    assert ephemeral.small_b == int.from_bytes(SMALL_B, "big")
    assert ephemeral.big_b == (srp.K * 12345 + pow(srp.G, ephemeral.small_b, srp.N)) % srp.N


def test_verifiers_and_ephemerals_are_fresh_each_time() -> None:
    salts = {srp.make_verifier(POOL, USER, PASSWORD).salt for _ in range(20)}
    assert len(salts) == 20
    assert all(len(s) == srp.SALT_BYTES and s[0] != 0 for s in salts)
    verifier = srp.make_verifier(POOL, USER, PASSWORD).verifier
    assert len({srp.server_ephemeral(verifier).small_b for _ in range(20)}) == 20


def test_challenge_parameters_carry_what_every_client_reads() -> None:
    challenge, _ = _vector_challenge()
    params = srp.challenge_parameters(challenge, salt=SALT, secret_block=VECTOR_BLOCK)
    assert params == {
        "SALT": "1f2e3d4c5b6a79881f2e3d4c5b6a7988",
        "SECRET_BLOCK": VECTOR_BLOCK,
        "SRP_B": format(challenge.big_b, "x"),
        "USERNAME": USER,
        "USER_ID_FOR_SRP": USER,
    }
    aliased = srp.challenge_parameters(
        challenge, salt=SALT, secret_block=VECTOR_BLOCK, username="alice@example.com"
    )
    assert aliased["USERNAME"] == "alice@example.com"
    assert aliased["USER_ID_FOR_SRP"] == USER


def test_the_servers_secret_stays_out_of_reprs() -> None:
    challenge, _ = _vector_challenge()
    assert format(challenge.small_b, "x") not in repr(challenge)
    assert str(challenge.small_b) not in repr(challenge)


# --- SRP_A -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "srp_a_malformed"),
        ("0x1f", "srp_a_malformed"),
        (" 1f", "srp_a_malformed"),
        ("+1f", "srp_a_malformed"),
        ("1_f", "srp_a_malformed"),
        ("xyz", "srp_a_malformed"),
        ("1" * 1025, "srp_a_malformed"),
        ("0", "srp_a_zero_mod_n"),
        ("000", "srp_a_zero_mod_n"),
        (format(srp.N, "x"), "srp_a_zero_mod_n"),
        (format(2 * srp.N, "x"), "srp_a_zero_mod_n"),
        (format(srp.N + 1, "x"), "srp_a_out_of_range"),
    ],
)
def test_srp_a_is_refused(text: str, reason: str) -> None:
    with pytest.raises(SrpRejected) as caught:
        srp.parse_srp_a(text)
    assert caught.value.reason == reason


def test_srp_a_is_read_as_hex_of_any_case_with_leading_zeros() -> None:
    big_a = pow(srp.G, SMALL_A, srp.N)
    assert srp.parse_srp_a(format(big_a, "x")) == big_a
    assert srp.parse_srp_a(format(big_a, "X")) == big_a
    assert srp.parse_srp_a("00" + format(big_a, "x")) == big_a
    assert srp.parse_srp_a("1") == 1


# --- TIMESTAMP ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        ((2024, 1, 2, 3, 4, 5), "Tue Jan 2 03:04:05 UTC 2024"),
        ((2026, 11, 22, 2, 39, 36), "Sun Nov 22 02:39:36 UTC 2026"),
        ((2026, 11, 22, 2, 41, 48), "Sun Nov 22 02:41:48 UTC 2026"),
        ((2025, 9, 5, 23, 59, 59), "Fri Sep 5 23:59:59 UTC 2025"),
        ((2024, 2, 29, 0, 0, 0), "Thu Feb 29 00:00:00 UTC 2024"),
        ((1970, 1, 1, 0, 0, 0), "Thu Jan 1 00:00:00 UTC 1970"),
    ],
)
def test_timestamp_format(moment: tuple[int, int, int, int, int, int], text: str) -> None:
    epoch = calendar.timegm(moment)
    assert srp.format_timestamp(epoch) == text
    assert srp.format_timestamp(epoch + 0.999) == text
    assert srp.parse_timestamp(text) == epoch


@pytest.mark.parametrize(
    "text",
    [
        "Tue Jan 02 03:04:05 UTC 2024",  # zero-padded day (AWS refuses it)
        "Mon Jan 2 03:04:05 UTC 2024",  # weekday does not fit the date
        "Tue Jan  2 03:04:05 UTC 2024",  # space-padded day
        "Tue Jan 2 3:04:05 UTC 2024",
        "Tue Jan 2 03:04:05 GMT 2024",
        "Tue Jan 2 03:04:05 UTC 24",
        "tue jan 2 03:04:05 UTC 2024",
        "Tue Jab 2 03:04:05 UTC 2024",
        "Tue January 2 03:04:05 UTC 2024",
        "Sat Feb 30 03:04:05 UTC 2024",
        "Tue Jan 2 24:00:00 UTC 2024",
        "Tue Jan 2 03:60:05 UTC 2024",
        "Tue Jan 2 03:04:05 UTC 2024 ",
        "Tue Jan 2 03:04:05 UTC 2024\n",
        "",
    ],
)
def test_non_canonical_timestamps_are_refused(text: str) -> None:
    with pytest.raises(SrpRejected, match="timestamp_malformed"):
        srp.parse_timestamp(text)


def test_timestamp_freshness() -> None:
    srp.check_timestamp(VECTOR_TIMESTAMP, now=VECTOR_NOW + 300)
    srp.check_timestamp(VECTOR_TIMESTAMP, now=VECTOR_NOW - 300)
    srp.check_timestamp(VECTOR_TIMESTAMP, now=VECTOR_NOW + 30, max_skew=30)
    for now, skew in [(VECTOR_NOW + 301, 300.0), (VECTOR_NOW - 301, 300.0), (VECTOR_NOW + 31, 30)]:
        with pytest.raises(SrpRejected, match="timestamp_stale"):
            srp.check_timestamp(VECTOR_TIMESTAMP, now=now, max_skew=skew)


def test_a_stale_timestamp_fails_even_with_a_good_signature() -> None:
    challenge, verifier = _vector_challenge()
    with pytest.raises(SrpRejected, match="timestamp_stale"):
        srp.verify_password_claim(
            challenge,
            pool_name=POOL,
            verifier=verifier,
            secret_block=VECTOR_BLOCK,
            timestamp=VECTOR_TIMESTAMP,
            signature="rN7AcXPgPN2HeBz2SPlY52dvmt77az8Uqyh0ylFb+D8=",
            now=VECTOR_NOW + 3600,
        )


@FAST
@given(
    st.datetimes(min_value=datetime.datetime(1000, 1, 1), max_value=datetime.datetime(9999, 12, 31))
)
def test_timestamps_match_pycognito_and_parse_back(moment: datetime.datetime) -> None:
    epoch = calendar.timegm(moment.timetuple())
    text = srp.format_timestamp(epoch)
    assert text == AWSSRP.get_cognito_formatted_timestamp(moment)
    assert srp.parse_timestamp(text) == epoch


# --- sign-ins by pycognito's client code ---------------------------------------------------


class Server:
    """The two server steps as the sign-in flow will run them, on the pure cores."""

    def __init__(self, pool_id: str, user_id: str, password: str) -> None:
        self.pool_id = pool_id
        self.user_id = user_id
        self.salt, self.verifier = srp.make_verifier(srp.pool_name(pool_id), user_id, password)

    def initiate(self, srp_a: str, *, now: float) -> dict[str, str]:
        challenge = srp.start_challenge(self.user_id, srp_a, self.verifier)
        block = secret_block.seal(challenge, key=BLOCK_KEY, context=CONTEXT, issued_at=now)
        return srp.challenge_parameters(challenge, salt=self.salt, secret_block=block)

    def respond(self, answer: dict[str, str], *, now: float) -> None:
        opened = secret_block.open_block(
            answer["PASSWORD_CLAIM_SECRET_BLOCK"], key=BLOCK_KEY, context=CONTEXT, now=now
        )
        srp.verify_password_claim(
            opened.challenge,
            pool_name=srp.pool_name(self.pool_id),
            verifier=self.verifier,
            secret_block=answer["PASSWORD_CLAIM_SECRET_BLOCK"],
            timestamp=answer["TIMESTAMP"],
            signature=answer["PASSWORD_CLAIM_SIGNATURE"],
            now=now,
        )


def pycognito_answer(
    server: Server, username: str, password: str, *, pool_id: str | None = None
) -> dict[str, str]:
    """Drive pycognito's AWSSRP without a network: its A, our challenge, its answer."""
    client = AWSSRP(
        username=username,
        password=password,
        pool_id=pool_id or server.pool_id,
        client_id="client-1",
        client=object(),  # never called: we hand it the challenge ourselves
    )
    client.small_a_value = client.generate_random_small_a()
    client.large_a_value = client.calculate_a()
    auth_params = client.get_auth_params()
    assert set(auth_params) == {"USERNAME", "SRP_A"}
    params = server.initiate(auth_params["SRP_A"], now=time.time())
    answer: dict[str, str] = client.process_challenge(params, auth_params)
    assert answer["USERNAME"] == server.user_id
    assert answer["PASSWORD_CLAIM_SECRET_BLOCK"] == params["SECRET_BLOCK"]
    return answer


def test_pycognito_signs_in() -> None:
    server = Server(POOL_ID, "alice", "Corr3ct-horse!")
    server.respond(pycognito_answer(server, "alice", "Corr3ct-horse!"), now=time.time())


def test_pycognito_with_an_email_pool_signs_in_as_the_internal_uuid() -> None:
    server = Server("eu-west-1_ayYl6Et6f", "34c84488-e0e1-70ae-d2ee-991ad1a898c8", "Pässw0rd ✓")
    answer = pycognito_answer(server, "alice@example.com", "Pässw0rd ✓")
    server.respond(answer, now=time.time())


def test_pycognito_with_the_wrong_password_is_refused() -> None:
    server = Server(POOL_ID, "alice", "Corr3ct-horse!")
    for wrong in ["Corr3ct-horse", "corr3ct-horse!", "Corr3ct-horse! ", ""]:
        answer = pycognito_answer(server, "alice", wrong)
        with pytest.raises(SrpRejected, match="signature_mismatch"):
            server.respond(answer, now=time.time())


def test_pycognito_for_another_pool_is_refused() -> None:
    server = Server(POOL_ID, "alice", "Corr3ct-horse!")
    answer = pycognito_answer(server, "alice", "Corr3ct-horse!", pool_id="us-east-1_OtherPool")
    with pytest.raises(SrpRejected, match="signature_mismatch"):
        server.respond(answer, now=time.time())


def _flip(text: str, index: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_tampered_answers_are_refused() -> None:
    server = Server(POOL_ID, "alice", "Corr3ct-horse!")
    answer = pycognito_answer(server, "alice", "Corr3ct-horse!")
    now = time.time()
    server.respond(answer, now=now)
    stamp = srp.parse_timestamp(answer["TIMESTAMP"])
    other = pycognito_answer(server, "alice", "Corr3ct-horse!")
    tampered = [
        (
            {"PASSWORD_CLAIM_SECRET_BLOCK": _flip(answer["PASSWORD_CLAIM_SECRET_BLOCK"], 40)},
            "secret_block_forged",
        ),
        (
            {"PASSWORD_CLAIM_SECRET_BLOCK": other["PASSWORD_CLAIM_SECRET_BLOCK"]},
            "signature_mismatch",
        ),
        ({"TIMESTAMP": srp.format_timestamp(stamp + 1)}, "signature_mismatch"),
        ({"TIMESTAMP": answer["TIMESTAMP"].replace(" UTC", "  UTC")}, "timestamp_malformed"),
        (
            {"PASSWORD_CLAIM_SIGNATURE": _flip(answer["PASSWORD_CLAIM_SIGNATURE"], 0)},
            "signature_mismatch",
        ),
        (
            {"PASSWORD_CLAIM_SIGNATURE": _flip(answer["PASSWORD_CLAIM_SIGNATURE"], 31)},
            "signature_mismatch",
        ),
        ({"PASSWORD_CLAIM_SIGNATURE": other["PASSWORD_CLAIM_SIGNATURE"]}, "signature_mismatch"),
    ]
    for change, reason in tampered:
        with pytest.raises(SrpRejected) as caught:
            server.respond({**answer, **change}, now=now)
        assert caught.value.reason == reason, change


def test_an_answer_that_comes_too_late_is_refused() -> None:
    server = Server(POOL_ID, "alice", "Corr3ct-horse!")
    answer = pycognito_answer(server, "alice", "Corr3ct-horse!")
    with pytest.raises(SrpRejected, match="secret_block_expired"):
        server.respond(answer, now=time.time() + secret_block.DEFAULT_MAX_AGE + 10)


_usernames = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc", "Zs"]), min_size=1, max_size=40
)
_passwords = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=0, max_size=64)


@FAST
@given(username=_usernames, password=_passwords)
def test_property_pycognito_round_trip(username: str, password: str) -> None:
    server = Server(POOL_ID, username, password)
    server.respond(pycognito_answer(server, username, password), now=time.time())


@FAST
@given(username=_usernames, password=_passwords, typo=st.text(min_size=1, max_size=3))
def test_property_a_changed_password_never_signs_in(
    username: str, password: str, typo: str
) -> None:
    server = Server(POOL_ID, username, password)
    answer = pycognito_answer(server, username, password + typo)
    with pytest.raises(SrpRejected, match="signature_mismatch"):
        server.respond(answer, now=time.time())
