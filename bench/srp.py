"""Micro-benchmark: milliseconds of server work per USER_SRP_AUTH sign-in.

Run: .venv/bin/python bench/srp.py [count]

Prints, for the server side only: a PASSWORD_VERIFIER check (open SECRET_BLOCK, u, S, key,
signature), the InitiateAuth step (parse A, draw b, compute B, seal SECRET_BLOCK), and a new
verifier (at sign-up or password change). The client's part is computed once, before any timing,
from the spec's formulas. Each figure is the best of several rounds
(shared machines are noisy). The calibration line times the unit of SRP work, one modular
exponentiation; a check costs about two of them.
"""

from __future__ import annotations

import base64
import secrets
import statistics
import sys
import time
from collections.abc import Callable

from authgate.identity import secret_block, srp

POOL = "TestPool1"
USER = "34c84488-e0e1-70ae-d2ee-991ad1a898c8"
PASSWORD = "Corr3ct-horse-battery!"  # noqa: S105 - made up for the benchmark
KEY = bytes(range(32))
CONTEXT = "us-east-1_TestPool1/client-1"
NOW = 1_767_225_600.0
ROUNDS = 5


def client_answer(salt: bytes, verifier: int, params: dict[str, str]) -> str:
    """A client's SRP_A, and (into `params`) the answer it would send: the spec's formulas."""
    small_a = int.from_bytes(secrets.token_bytes(128), "big") % srp.N
    big_a = pow(srp.G, small_a, srp.N)
    challenge = srp.start_challenge(USER, format(big_a, "x"), verifier)
    block = secret_block.seal(challenge, key=KEY, context=CONTEXT, issued_at=NOW)
    x = srp.private_key(POOL, USER, PASSWORD, salt)
    u = srp.scrambler(big_a, challenge.big_b)
    premaster = pow(challenge.big_b - srp.K * pow(srp.G, x, srp.N), small_a + u * x, srp.N)
    key = srp.derive_key(premaster, u)
    stamp = srp.format_timestamp(NOW)
    signature = srp.claim_signature(key, POOL, USER, base64.b64decode(block), stamp)
    params.update(
        {
            "PASSWORD_CLAIM_SECRET_BLOCK": block,
            "TIMESTAMP": stamp,
            "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(signature).decode(),
        }
    )
    return format(big_a, "x")


def measure(label: str, count: int, call: Callable[[], object]) -> float:
    call()  # warm up, and fail loudly if the call raises
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(count):
            call()
        rounds.append((time.perf_counter_ns() - start) / count / 1e6)
    best, median = min(rounds), statistics.median(rounds)
    print(f"{label:<48} best {best:8.3f} ms   median {median:8.3f} ms   ({count} x {ROUNDS})")
    return best


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    salt, verifier = srp.make_verifier(POOL, USER, PASSWORD)
    answer: dict[str, str] = {}
    srp_a = client_answer(salt, verifier, answer)

    def verify() -> None:
        opened = secret_block.open_block(
            answer["PASSWORD_CLAIM_SECRET_BLOCK"], key=KEY, context=CONTEXT, now=NOW
        )
        srp.verify_password_claim(
            opened.challenge,
            pool_name=POOL,
            verifier=verifier,
            secret_block=answer["PASSWORD_CLAIM_SECRET_BLOCK"],
            timestamp=answer["TIMESTAMP"],
            signature=answer["PASSWORD_CLAIM_SIGNATURE"],
            now=NOW,
        )

    def initiate() -> None:
        challenge = srp.start_challenge(USER, srp_a, verifier)
        block = secret_block.seal(challenge, key=KEY, context=CONTEXT, issued_at=NOW)
        srp.challenge_parameters(challenge, salt=salt, secret_block=block)

    print(f"python {sys.version.split()[0]}")
    exponent = int.from_bytes(secrets.token_bytes(srp.EPHEMERAL_BYTES), "big")
    measure(
        "calibration: one 3072-bit pow, 256-bit exponent", count, lambda: pow(3, exponent, srp.N)
    )
    measure("PASSWORD_VERIFIER check (server)", count, verify)
    measure("InitiateAuth challenge (server)", count, initiate)
    measure(
        "new verifier (sign-up / password change)",
        count,
        lambda: srp.make_verifier(POOL, USER, PASSWORD),
    )


if __name__ == "__main__":
    main()
