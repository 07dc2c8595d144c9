"""A function instrumented with Powertools' Tracer and Logger, as many Lambda functions are."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="traced")
tracer = Tracer(service="traced")


@logger.inject_lambda_context(log_event=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.info("handled", extra={"path": event["path"]})
    keys = logger.get_current_keys()
    names = ("function_name", "function_arn", "function_memory_size", "function_request_id")
    return {"statusCode": 200, "body": json.dumps({name: keys.get(name) for name in names})}
