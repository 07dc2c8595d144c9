"""A TOKEN authorizer in the style of AWS's Python blueprint: a small policy-building class with
allowMethod / denyMethod, as countless deployed authorizers still carry it."""

import re


class HttpVerb:
    GET = "GET"
    POST = "POST"
    ALL = "*"


class AuthPolicy:
    """Collects allowed and denied methods, then renders them as one IAM policy."""

    version = "2012-10-17"
    path_pattern = re.compile(r"^[/.a-zA-Z0-9\-*{}+]+$")

    def __init__(self, principal, account_id):
        self.principal_id = principal
        self.aws_account_id = account_id
        self.rest_api_id = "*"
        self.region = "*"
        self.stage = "*"
        self.allowed = []
        self.denied = []

    def _add(self, effect, verb, resource):
        if verb != "*" and verb not in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
            raise NameError(f"invalid HTTP verb {verb}")
        if not self.path_pattern.match(resource):
            raise NameError(f"invalid resource path {resource}")
        arn = (
            f"arn:aws:execute-api:{self.region}:{self.aws_account_id}:{self.rest_api_id}/"
            f"{self.stage}/{verb}/{resource.lstrip('/')}"
        )
        (self.allowed if effect == "Allow" else self.denied).append(arn)

    def allowMethod(self, verb, resource):
        self._add("Allow", verb, resource)

    def denyMethod(self, verb, resource):
        self._add("Deny", verb, resource)

    def allowAllMethods(self):
        self._add("Allow", HttpVerb.ALL, "*")

    def build(self):
        if not self.allowed and not self.denied:
            raise NameError("no statement defined for the policy")
        statements = [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resources}
            for effect, resources in (("Allow", self.allowed), ("Deny", self.denied))
            if resources
        ]
        return {
            "principalId": self.principal_id,
            "policyDocument": {"Version": self.version, "Statement": statements},
        }


def lambda_handler(event, context):
    token = event["authorizationToken"]
    if token == "Bearer nobody":
        raise Exception("Unauthorized")
    arn_parts = event["methodArn"].split(":")
    api_parts = arn_parts[5].split("/")
    policy = AuthPolicy("blueprint-user", arn_parts[4])
    policy.region = arn_parts[3]
    policy.rest_api_id = api_parts[0]
    policy.stage = api_parts[1]
    policy.allowMethod(HttpVerb.GET, "/pets")
    policy.allowMethod(HttpVerb.GET, "/pets/*")
    policy.denyMethod(HttpVerb.POST, "/pets")
    result = policy.build()
    result["context"] = {"style": "blueprint", "count": 1, "ok": True}
    return result
