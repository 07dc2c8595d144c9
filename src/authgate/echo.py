"""An HTTP echo backend: answers every request with what it received, as JSON.

An authgate extension for demos and for checking what an integration forwards; it is served
by the same HTTP layer as the gateway.
"""

from __future__ import annotations

import orjson

from authgate.http1.message import Request, Response


async def echo(request: Request) -> Response:
    body = await request.body.read()
    record = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": {name.lower(): value for name, value in request.headers},
        "body": body.decode("utf-8", "replace"),
    }
    return Response(200, [("content-type", "application/json")], orjson.dumps(record))
