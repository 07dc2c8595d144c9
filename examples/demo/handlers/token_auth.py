"""A TOKEN authorizer in plain Python, as it would be deployed to Lambda: the caller whose
`Authorization` header is `test-token-123` may call the method, anyone else is denied."""

import hmac

DEMO_TOKEN = "test-token-123"  # noqa: S105 - the demo's published token


def handler(event, context):
    token = event["authorizationToken"]
    allowed = hmac.compare_digest(token.encode(), DEMO_TOKEN.encode())
    return {
        "principalId": "demo-user" if allowed else "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": event["methodArn"],
                }
            ],
        },
        "context": {"plan": "demo", "verified": allowed},
    }
