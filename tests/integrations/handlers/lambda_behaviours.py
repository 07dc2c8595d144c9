"""Plain Lambda handlers, each showing one behaviour the integration must reproduce."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from typing import Any

_RELEASE = threading.Event()

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


def echo_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(event),
    }


async def echo_event_async(event: dict[str, Any], context: Any) -> dict[str, Any]:
    await asyncio.sleep(0)
    return echo_event(event, context)


def boom(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise ValueError("secret detail from inside the function")


def raise_timeout_error(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise TimeoutError("a socket of the function's own timed out")


def just_a_string(event: dict[str, Any], context: Any) -> str:
    return "justAString"


def hello(event: dict[str, Any], context: Any) -> dict[str, str]:
    return {"message": "hello"}


def png(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(PNG).decode(),
        "isBase64Encoded": True,
    }


def blocking(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Blocks its thread until released (at most 5 s), like a stuck call."""
    _RELEASE.wait(5.0)
    return {"statusCode": 200}


def release() -> None:
    _RELEASE.set()


def pause(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(0.2)
    return {"statusCode": 200, "body": "done"}


async def slow_async(event: dict[str, Any], context: Any) -> dict[str, Any]:
    await asyncio.sleep(5.0)
    return {"statusCode": 200}


def context_probe(event: dict[str, Any], context: Any) -> dict[str, Any]:
    first = context.get_remaining_time_in_millis()
    time.sleep(0.03)
    second = context.get_remaining_time_in_millis()
    fields = {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "cognito_identity_id": context.identity.cognito_identity_id,
        "client_context": context.client_context,
        "remaining": [first, second],
    }
    return {"statusCode": 200, "body": json.dumps(fields)}


NOT_CALLABLE = 42
