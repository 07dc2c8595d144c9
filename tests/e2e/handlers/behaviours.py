"""Handlers that misbehave on purpose, or report what they were given."""

import asyncio
import json
import time


def echo_event(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(
            {
                "event": event,
                "remaining": context.get_remaining_time_in_millis(),
                "function": context.function_name,
                "arn": context.invoked_function_arn,
            }
        ),
    }


async def async_echo(event, context):
    await asyncio.sleep(0)
    return {"statusCode": 200, "body": json.dumps({"async": True, "path": event["path"]})}


def malformed(event, context):
    return "justAString"


def body_not_string(event, context):
    return {"statusCode": 200, "body": {"an": "object"}}


def explode(event, context):
    raise RuntimeError("secret-internal-detail-42")


def slow(event, context):
    time.sleep(1.5)
    return {"statusCode": 200, "body": "late"}
