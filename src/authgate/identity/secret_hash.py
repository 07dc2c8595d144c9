"""SECRET_HASH: how an app client with a secret proves it knows it (Cognito Developer Guide,
"Computing secret hash values"). Pure: no I/O.

`Base64(HMAC-SHA256(key = client secret, message = username ‖ client id))`. Clients disagree on
which username goes in (the typed alias, the internal username, `sub`), so a check accepts a
hash of any identifier of the same user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from authgate.identity.errors import NotAuthorized


def secret_hash(secret: str, username: str, client_id: str) -> str:
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def check_secret_hash(
    secret: str | None, client_id: str, provided: object, usernames: Iterable[str]
) -> None:
    """Nothing to check for a client without a secret; NotAuthorized with Cognito's messages
    when the hash is missing or matches none of `usernames`."""
    if secret is None:
        return
    if not isinstance(provided, str) or not provided:
        raise NotAuthorized(
            f"Client {client_id} is configured with secret but SECRET_HASH was not received"
        )
    matched = False
    for name in dict.fromkeys(usernames):
        expected = secret_hash(secret, name, client_id)
        matched |= hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace"))
    if not matched:
        raise NotAuthorized(f"Unable to verify secret hash for client {client_id}")
