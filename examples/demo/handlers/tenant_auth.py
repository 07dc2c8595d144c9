"""A REQUEST authorizer in plain Python: the `X-Tenant` header names a tenant and the `key`
query parameter must be that tenant's key."""

import hmac

TENANT_KEYS = {"acme": "acme-demo-key", "globex": "globex-demo-key"}


def handler(event, context):
    tenant = (event.get("headers") or {}).get("X-Tenant", "")
    key = (event.get("queryStringParameters") or {}).get("key", "")
    expected = TENANT_KEYS.get(tenant)
    allowed = expected is not None and hmac.compare_digest(key.encode(), expected.encode())
    api = event["methodArn"].split("/")[0]  # every route of this API and stage below
    stage = event["requestContext"]["stage"]
    return {
        "principalId": f"tenant:{tenant}" if allowed else "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": f"{api}/{stage}/*",
                }
            ],
        },
        "context": {"tenant": tenant},
    }
