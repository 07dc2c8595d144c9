"""SecretBox.digest: the keyed digest by which secrets are looked up without being stored."""

from __future__ import annotations

import hashlib
import hmac

from authgate.security.secrets import SecretBox

KEY = bytes(range(32))


def test_deterministic_hex_sha256() -> None:
    box = SecretBox(KEY)
    first = box.digest(b"value", context=b"ctx")
    assert first == box.digest(b"value", context=b"ctx")
    assert first == SecretBox(KEY).digest(b"value", context=b"ctx")
    assert len(first) == 64
    int(first, 16)


def test_keyed_by_the_master_key() -> None:
    assert SecretBox(KEY).digest(b"value", context=b"ctx") != SecretBox(bytes(32)).digest(
        b"value", context=b"ctx"
    )
    assert SecretBox(KEY).digest(b"value", context=b"ctx") != hashlib.sha256(b"value").hexdigest()


def test_separated_by_context_and_value() -> None:
    box = SecretBox(KEY)
    assert box.digest(b"value", context=b"a") != box.digest(b"value", context=b"b")
    assert box.digest(b"value", context=b"a") != box.digest(b"valuf", context=b"a")


def test_sub_key_is_not_the_master_key() -> None:
    """A digest is not a plain HMAC under the master key, which also derives the key id."""
    box = SecretBox(KEY)
    plain = hmac.new(KEY, b"value", hashlib.sha256).hexdigest()
    assert box.digest(b"value", context=b"") != plain


def test_many_contexts_still_give_the_same_answers() -> None:
    box = SecretBox(KEY)
    expected = {n: box.digest(b"v", context=str(n).encode()) for n in range(200)}
    assert all(box.digest(b"v", context=str(n).encode()) == d for n, d in expected.items())
