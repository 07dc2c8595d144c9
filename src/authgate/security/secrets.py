"""Envelope encryption of secret fields at rest, under one master key.

Each value gets its own random 256-bit data key; the data key encrypts the value and the master
key encrypts (wraps) the data key, both with AES-256-GCM. The master key therefore only ever
encrypts random keys (no nonce-reuse risk however many values are sealed), and rotating it means
re-wrapping 48-byte data keys, not re-encrypting values. A caller-chosen `context` (for example
the row's id) is bound to both layers as associated data, so a sealed value copied into another
row does not open there.

`digest()` gives a keyed HMAC-SHA256 of a value under a key derived from the master key for a
context, so a secret can be found by an indexed column (its digest) without being stored in the
clear and without the digest being guessable by whoever reads the database. Rotating the master
key changes every digest: digests must be recomputed along with re-wrapping.

Layout of a sealed value::

    version (1) | key id (4) | wrap nonce (12) | wrapped data key (48) | nonce (12) | ciphertext+tag

The master key comes from `AUTHGATE_MASTER_KEY` (base64 of 32 bytes) or from
`<data_dir>/master.key`, created on first use with mode 0600. An existing key file that group or
others may read or write is refused: whoever reads it reads every secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authgate.errors import AuthgateError, ConfigError, Problem

MASTER_KEY_ENV = "AUTHGATE_MASTER_KEY"
KEY_FILE_NAME = "master.key"
KEY_BYTES = 32

_VERSION = b"\x01"
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_WRAPPED_BYTES = KEY_BYTES + 16
_HEADER_BYTES = len(_VERSION) + _KEY_ID_BYTES
_OVERHEAD = _HEADER_BYTES + 2 * _NONCE_BYTES + _WRAPPED_BYTES + 16
_MAX_KEY_FILE_BYTES = 1024
_MAX_DIGEST_CONTEXTS = 64
"""Prepared HMACs kept per digest context; contexts are a few constants, so this never fills."""


class SealedValueError(AuthgateError):
    """A sealed value does not open: wrong master key, wrong context, or tampered bytes."""


class MasterKeyError(ConfigError):
    """The master key cannot be loaded; authgate must not start without it."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__([Problem(location, message)])


class SecretBox:
    """Seals and opens secret fields; never shows its key."""

    __slots__ = ("_digesters", "_key", "_key_id", "_master")

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a master key is {KEY_BYTES} bytes, not {len(key)}")
        self._key = bytes(key)
        self._master = AESGCM(self._key)
        self._key_id = hmac.new(self._key, b"authgate master key id", hashlib.sha256).digest()[
            :_KEY_ID_BYTES
        ]
        self._digesters: dict[bytes, hmac.HMAC] = {}

    @classmethod
    def load(cls, data_dir: Path, *, environ: Mapping[str, str] | None = None) -> SecretBox:
        """The box for this installation: the key from the environment, else the key file
        (created if absent). MasterKeyError if the key is malformed or its file is exposed."""
        env = os.environ if environ is None else environ
        value = env.get(MASTER_KEY_ENV)
        if value is not None:
            return cls(_decode_key(value.encode("ascii", "replace"), MASTER_KEY_ENV))
        return cls(load_or_create_key_file(data_dir / KEY_FILE_NAME))

    @property
    def key_id(self) -> str:
        """A short fingerprint naming the master key (for logs and rotation), not the key."""
        return self._key_id.hex()

    def __repr__(self) -> str:
        return f"SecretBox(key_id={self.key_id})"

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        header = _VERSION + self._key_id
        data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        wrap_nonce = os.urandom(_NONCE_BYTES)
        wrapped = self._master.encrypt(wrap_nonce, data_key, _wrap_aad(header, context))
        nonce = os.urandom(_NONCE_BYTES)
        body = AESGCM(data_key).encrypt(nonce, plaintext, header + context)
        return header + wrap_nonce + wrapped + nonce + body

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        if len(sealed) < _OVERHEAD or sealed[:1] != _VERSION:
            raise SealedValueError("not a sealed value of a known version")
        header = sealed[:_HEADER_BYTES]
        if not hmac.compare_digest(header[1:], self._key_id):
            raise SealedValueError("sealed under a different master key")
        at = _HEADER_BYTES
        wrap_nonce = sealed[at : at + _NONCE_BYTES]
        at += _NONCE_BYTES
        wrapped = sealed[at : at + _WRAPPED_BYTES]
        at += _WRAPPED_BYTES
        nonce = sealed[at : at + _NONCE_BYTES]
        body = sealed[at + _NONCE_BYTES :]
        try:
            data_key = self._master.decrypt(wrap_nonce, wrapped, _wrap_aad(header, context))
            return AESGCM(data_key).decrypt(nonce, body, header + context)
        except InvalidTag:
            raise SealedValueError("sealed value does not open in this context") from None

    def digest(self, data: bytes, *, context: bytes) -> str:
        """Hex HMAC-SHA256 of `data` under the master key's sub-key for `context`.

        Deterministic (equal values give equal digests, so it can be looked up), keyed (without
        the master key a digest cannot be checked against guesses), and separated by context
        (the same value digests differently for different uses). No I/O.
        """
        digester = self._digesters.get(context)
        if digester is None:
            sub_key = hmac.new(self._key, b"authgate digest key\x00" + context, hashlib.sha256)
            digester = hmac.new(sub_key.digest(), digestmod=hashlib.sha256)
            if len(self._digesters) >= _MAX_DIGEST_CONTEXTS:
                self._digesters.clear()
            self._digesters[context] = digester
        mac = digester.copy()
        mac.update(data)
        return mac.hexdigest()


def _wrap_aad(header: bytes, context: bytes) -> bytes:
    return header + b"data key\x00" + context


def _decode_key(raw: bytes, where: str) -> bytes:
    text = raw.strip()
    if not text:
        raise MasterKeyError(where, "is empty; it must be the base64 of 32 random bytes")
    key = None
    for altchars in (b"+/", b"-_"):
        try:
            key = base64.b64decode(text, altchars=altchars, validate=True)
            break
        except (binascii.Error, ValueError):
            continue
    if key is None:
        raise MasterKeyError(where, "is not valid base64 (it must encode 32 random bytes)")
    if len(key) != KEY_BYTES:
        raise MasterKeyError(where, f"must encode {KEY_BYTES} bytes, not {len(key)}")
    return key


def load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, or create it (mode 0600, atomically) if it does not exist yet."""
    try:
        return read_key_file(path)
    except FileNotFoundError:
        pass
    return _create_key_file(path)


def read_key_file(path: Path) -> bytes:
    """The key in `path`; FileNotFoundError if absent, MasterKeyError if exposed or malformed."""
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise MasterKeyError(where, f"cannot be read: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise MasterKeyError(where, "is not a regular file")
    with os.fdopen(fd, "rb") as f:
        if os.name == "posix" and info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise MasterKeyError(
                where,
                f"is accessible to group or others (mode {mode:04o}); "
                "restrict it with chmod 600 or remove it",
            )
        data = f.read(_MAX_KEY_FILE_BYTES + 1)
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise MasterKeyError(where, "is too large to be a master key file")
    return _decode_key(data, where)


def _create_key_file(path: Path) -> bytes:
    """Write a new key beside its final name, then hard-link it into place: the file appears
    whole or not at all, and if another process got there first its key wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.urandom(KEY_BYTES)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(base64.b64encode(key) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return read_key_file(path)
    finally:
        temp.unlink(missing_ok=True)
    _sync_directory(path.parent)
    return key


def _sync_directory(directory: Path) -> None:
    """Make the new directory entry durable: a lost master key loses every secret."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
