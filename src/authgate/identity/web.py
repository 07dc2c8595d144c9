"""The user pools' public documents over HTTP: `/{poolId}/.well-known/jwks.json` and
`/{poolId}/.well-known/openid-configuration`, as Cognito serves them below each issuer.

A path that does not name one of our pools is not ours (None): the data plane answers it.
"""

from __future__ import annotations

import re
from typing import Final

import orjson

from authgate.http1.message import Request, Response
from authgate.identity.discovery import DISCOVERY_PATH, JWKS_PATH
from authgate.identity.provider import UserPoolServices

_POOL_PATH: Final = re.compile(r"/([\w-]+_[0-9A-Za-z]+)(/\.well-known/[a-z.-]+)")
_HEADERS: Final = [("content-type", "application/json"), ("cache-control", "max-age=300")]


async def well_known(request: Request, user_pools: UserPoolServices) -> Response | None:
    if request.method not in ("GET", "HEAD"):
        return None
    match = _POOL_PATH.fullmatch(request.path)
    if match is None or match.group(2) not in (JWKS_PATH, DISCOVERY_PATH):
        return None
    pool_id = match.group(1)
    if not await user_pools.keys.known(pool_id):
        return None
    if match.group(2) == JWKS_PATH:
        document: object = user_pools.keys.jwks(pool_id)
    else:
        document = user_pools.discovery(pool_id)
    body = b"" if request.method == "HEAD" else orjson.dumps(document)
    return Response(200, list(_HEADERS), body)
