"""Authorizers that misbehave on purpose, and one that counts its calls per token."""

import json
import time
from collections import Counter

calls = Counter()


def allow_all(principal, event, context=None):
    arn = event.get("methodArn") or event["routeArn"]
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": arn.split("/")[0] + "/*",
                }
            ],
        },
        "context": context or {},
    }


def counted(event, context):
    """Decides by token: `deny-*` is denied everywhere, `pets-*` may only call the method it was
    first asked about, `near-*` / `far-*` may call anything from 127.0.0.0/8 / 10.0.0.0/8,
    `error-*` and `unauthorized-*` raise, `slow*-*` take 0.3 s first (`slowerror-*` then
    raise); anything else may call everything."""
    token = event["authorizationToken"]
    calls[token] += 1
    calls["*"] += 1
    if token.startswith("slow"):
        time.sleep(0.3)
    if token.startswith(("error-", "slowerror-")):
        raise RuntimeError("backend store unavailable")
    if token.startswith("unauthorized-"):
        raise Exception("Unauthorized")
    api = event["methodArn"].split("/")[0]
    if token.startswith("deny-"):
        statement = {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": api + "/*"}
    elif token.startswith(("near-", "far-")):
        network = "127.0.0.0/8" if token.startswith("near-") else "10.0.0.0/8"
        statement = {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": api + "/*",
            "Condition": {"IpAddress": {"aws:SourceIp": network}},
        }
    elif token.startswith("pets-"):
        statement = {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": event["methodArn"],
        }
    else:
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": api + "/*"}
    return {
        "principalId": token,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"calls": calls[token]},
    }


def report_calls(event, context):
    token = (event.get("queryStringParameters") or {}).get("token", "*")
    return {"statusCode": 200, "body": str(calls[token])}


def raise_other(event, context):
    raise ValueError("Unauthorized: token expired")


def slow(event, context):
    time.sleep(1.0)
    return allow_all("late", event)


def proxy_shaped(event, context):
    return {"statusCode": 200, "body": "allowed"}


def nested_context(event, context):
    return allow_all("nested", event, {"user": {"id": 7}})


def no_policy(event, context):
    return {"principalId": "someone", "context": {"a": "b"}}


def not_json_object(event, context):
    return "Allow"


def echo_event(event, context):
    """Allows everything and hands the event it received to the backend (as a JSON string:
    context values must be scalars)."""
    return allow_all("echo", event, {"event": json.dumps(event)})
