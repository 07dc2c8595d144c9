"""Micro-benchmark: microseconds per SigV4 verification (parse + check + signature).

Run: .venv/bin/python bench/sigv4_verify.py [count]

The request looks like what botocore sends for execute-api: a POST with a JSON body, a query
string, a session token and the usual unsigned client headers. Each figure is the best of
several rounds of `count` calls (shared machines are noisy); the calibration line says how fast
this interpreter is, so figures from different machines can be compared.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from authgate.iam import sigv4

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS's documented example
NOW = 1_763_779_309.0
REGION = "us-east-1"
SERVICE = "execute-api"
ROUNDS = 7


def build_request() -> sigv4.RequestParts:
    """A signed request; the signature comes from the module's own canonical strings."""
    stamp = sigv4.format_timestamp(NOW)
    credential = f"AKIDEXAMPLE/{stamp[:8]}/{REGION}/{SERVICE}/aws4_request"
    signed_headers = "content-type;host;x-amz-date;x-amz-security-token"
    headers = [
        ("Host", "abc123.execute-api.us-east-1.amazonaws.com"),
        ("User-Agent", "python-requests/2.34.2"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Accept", "*/*"),
        ("Connection", "keep-alive"),
        ("Content-Type", "application/json"),
        ("X-Amz-Date", stamp),
        ("X-Amz-Security-Token", "tok123"),
        ("Content-Length", "39"),
    ]

    def with_signature(signature: str) -> sigv4.RequestParts:
        authorization = (
            f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, "
            f"Signature={signature}"
        )
        return sigv4.RequestParts(
            "POST",
            "/prod/pets/my%20pet",
            "type=dog&limit=10&q=hello+world",
            [*headers, ("Authorization", authorization)],
            b'{"name": "rex", "tags": ["a b", "c/d"]}',
        )

    draft = sigv4.parse(with_signature("0" * 64))
    sts = sigv4.string_to_sign(draft, sigv4.canonical_request(draft))
    key = sigv4.SigningKey(sigv4.SecretKey(SECRET).signing_key(stamp[:8], REGION, SERVICE))
    return with_signature(key.sign(sts.encode()))


def measure(label: str, count: int, call: Callable[[], object]) -> float:
    call()  # warm up, and fail loudly if the request does not verify
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(count):
            call()
        rounds.append((time.perf_counter_ns() - start) / count / 1000)
    best, median = min(rounds), statistics.median(rounds)
    print(f"{label:<40} best {best:7.2f} µs   median {median:7.2f} µs   ({count} x {ROUNDS})")
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    parts = build_request()
    secret = sigv4.SecretKey(SECRET)
    cache = sigv4.SigningKeyCache()

    def cached() -> object:
        return sigv4.verify(
            parts,
            secret,
            now=NOW,
            expected_region=REGION,
            expected_service=SERVICE,
            key_cache=cache,
        )

    def uncached() -> object:
        cache.clear()
        return cached()

    print(f"python {sys.version.split()[0]}")
    measure("calibration: sum(range(100))", count, lambda: sum(range(100)))
    measure("parse only", count, lambda: sigv4.parse(parts))
    measure("verify, signing key cached", count, cached)
    measure("verify, signing key derived each call", count, uncached)


if __name__ == "__main__":
    main()
