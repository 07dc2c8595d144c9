"""SecretBox: sealing, tamper detection, and where the master key comes from."""

from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest

from authgate.errors import ConfigError
from authgate.security.secrets import (
    KEY_FILE_NAME,
    MASTER_KEY_ENV,
    MasterKeyError,
    SealedValueError,
    SecretBox,
    load_or_create_key_file,
)

KEY = bytes(range(32))
CONTEXT = b"authgate:test:row-1"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(KEY)


@pytest.mark.parametrize(
    "plaintext", [b"", b"x", b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", bytes(10_000)]
)
def test_round_trip(box: SecretBox, plaintext: bytes) -> None:
    sealed = box.seal(plaintext, context=CONTEXT)
    if len(plaintext) >= 16:  # a short plaintext can turn up in random ciphertext by chance
        assert plaintext not in sealed
    assert box.open(sealed, context=CONTEXT) == plaintext
    assert SecretBox(KEY).open(sealed, context=CONTEXT) == plaintext


def test_each_seal_is_fresh(box: SecretBox) -> None:
    sealed = {box.seal(b"same", context=CONTEXT) for _ in range(20)}
    assert len(sealed) == 20


def test_wrong_context_does_not_open(box: SecretBox) -> None:
    sealed = box.seal(b"secret", context=CONTEXT)
    with pytest.raises(SealedValueError, match="does not open"):
        box.open(sealed, context=b"authgate:test:row-2")


def test_other_master_key_does_not_open(box: SecretBox) -> None:
    sealed = box.seal(b"secret", context=CONTEXT)
    other = SecretBox(bytes(32))
    assert other.key_id != box.key_id
    with pytest.raises(SealedValueError, match="different master key"):
        other.open(sealed, context=CONTEXT)


def test_any_flipped_bit_is_detected(box: SecretBox) -> None:
    sealed = box.seal(b"secret value", context=CONTEXT)
    for i in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[i] ^= 0x01
        with pytest.raises(SealedValueError):
            box.open(bytes(tampered), context=CONTEXT)


@pytest.mark.parametrize("cut", [0, 1, 10, 60])
def test_truncated_values_are_refused(box: SecretBox, cut: int) -> None:
    sealed = box.seal(b"secret", context=CONTEXT)
    with pytest.raises(SealedValueError):
        box.open(sealed[:cut], context=CONTEXT)
    with pytest.raises(SealedValueError):
        box.open(sealed[:-1], context=CONTEXT)


def test_unknown_version_is_refused(box: SecretBox) -> None:
    sealed = box.seal(b"secret", context=CONTEXT)
    with pytest.raises(SealedValueError, match="version"):
        box.open(b"\x02" + sealed[1:], context=CONTEXT)


def test_repr_never_shows_the_key(box: SecretBox) -> None:
    shown = repr(box) + str(box) + f"{box!r}"
    for form in (KEY.hex(), base64.b64encode(KEY).decode(), repr(KEY)):
        assert form not in shown
    assert box.key_id in shown


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox(bytes(size))


# -- the master key from the environment ------------------------------------------------------


def test_environment_key_standard_and_urlsafe_base64(tmp_path: Path) -> None:
    key = bytes([0xFB, 0xFF] * 16)  # encodes with '+' and '/' (or '-' and '_')
    for encoded in (base64.b64encode(key), base64.urlsafe_b64encode(key)):
        box = SecretBox.load(tmp_path, environ={MASTER_KEY_ENV: encoded.decode() + "\n"})
        assert box.open(SecretBox(key).seal(b"v", context=CONTEXT), context=CONTEXT) == b"v"
    assert not (tmp_path / KEY_FILE_NAME).exists(), "no key file when the environment has one"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("not base64!!", "not valid base64"),
        (base64.b64encode(bytes(16)).decode(), "must encode 32 bytes, not 16"),
        (base64.b64encode(bytes(33)).decode(), "must encode 32 bytes, not 33"),
    ],
)
def test_bad_environment_key_refuses_to_start(tmp_path: Path, value: str, message: str) -> None:
    with pytest.raises(MasterKeyError, match=message) as caught:
        SecretBox.load(tmp_path, environ={MASTER_KEY_ENV: value})
    assert isinstance(caught.value, ConfigError)
    assert caught.value.problems[0].location == MASTER_KEY_ENV
    if value.strip():
        assert value.strip() not in str(caught.value)


# -- the master key file ----------------------------------------------------------------------


def test_key_file_created_0600_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    first = SecretBox.load(data_dir, environ={})
    path = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) & 0o077 == 0
    assert len(base64.b64decode(path.read_bytes().strip(), validate=True)) == 32
    second = SecretBox.load(data_dir, environ={})
    assert second.key_id == first.key_id
    assert second.open(first.seal(b"v", context=CONTEXT), context=CONTEXT) == b"v"
    assert sorted(p.name for p in data_dir.iterdir()) == [KEY_FILE_NAME], "no temporary files"


def test_key_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        SecretBox.load(tmp_path, environ={})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666])
def test_exposed_key_file_refuses_to_start(tmp_path: Path, mode: int) -> None:
    SecretBox.load(tmp_path, environ={})
    path = tmp_path / KEY_FILE_NAME
    path.chmod(mode)
    with pytest.raises(MasterKeyError, match=f"mode {mode:04o}"):
        SecretBox.load(tmp_path, environ={})


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_private_key_file_is_accepted(tmp_path: Path, mode: int) -> None:
    first = SecretBox.load(tmp_path, environ={})
    (tmp_path / KEY_FILE_NAME).chmod(mode)
    assert SecretBox.load(tmp_path, environ={}).key_id == first.key_id


def test_environment_wins_over_an_exposed_key_file(tmp_path: Path) -> None:
    SecretBox.load(tmp_path, environ={})
    (tmp_path / KEY_FILE_NAME).chmod(0o644)
    env = {MASTER_KEY_ENV: base64.b64encode(KEY).decode()}
    assert SecretBox.load(tmp_path, environ=env).key_id == SecretBox(KEY).key_id


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"hello world", "not valid base64"),
        (base64.b64encode(bytes(24)) + b"\n", "must encode 32 bytes"),
        (b"A" * 5000, "too large"),
    ],
)
def test_malformed_key_file_refuses_to_start(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / KEY_FILE_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    with pytest.raises(MasterKeyError, match=message) as caught:
        SecretBox.load(tmp_path, environ={})
    assert caught.value.problems[0].location == str(path)


def test_key_file_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).mkdir(mode=0o700)
    with pytest.raises(MasterKeyError):
        SecretBox.load(tmp_path, environ={})


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    barrier = threading.Barrier(8, timeout=10)
    keys: list[bytes] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()
        key = load_or_create_key_file(path)
        with lock:
            keys.append(key)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(keys) == 8
    assert len(set(keys)) == 1
    assert base64.b64decode(path.read_bytes().strip()) == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]
