"""The AWS SigV4 test suite (shared/conformance/sigv4): every case verifies, its canonical request
and string to sign match byte for byte, and any change to a signed element is rejected."""

from __future__ import annotations

import calendar
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from authgate.iam import sigv4

SUITE = Path(__file__).resolve().parents[3] / ".." / "shared" / "conformance" / "sigv4"
if not SUITE.is_dir() and os.environ.get("CI"):
    raise RuntimeError(f"CI must run the SigV4 conformance suite, and it is missing: {SUITE}")
pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=f"conformance suite not found: {SUITE}")

# The suite's fixed inputs (its README).
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = calendar.timegm((2015, 8, 30, 12, 36, 0))
REGION = "us-east-1"
SERVICE = "service"
# Its .sreq carries get-vanilla's signature (known upstream error); .authz is right.
BAD_SREQ = "get-vanilla-with-session-token"


def _case_dirs() -> list[Path]:
    if not SUITE.is_dir():
        return []
    return sorted(p.parent for p in SUITE.rglob("*.sreq"))


CASES = _case_dirs()


def _case_id(case: Path) -> str:
    return str(case.relative_to(SUITE))


def _file(case: Path, ext: str) -> bytes:
    return (case / f"{case.name}.{ext}").read_bytes()


def read_request(raw: bytes) -> sigv4.RequestParts:
    """Read a suite request the lenient way the files need (see the suite README).

    Text is decoded as latin-1, as the HTTP layer hands it over. The target may contain a
    space, and obs-folded lines are appended to the previous value with their line break.
    """
    text = raw.decode("latin-1")
    head, _, body = text.partition("\n\n")
    request_line, *lines = head.split("\n")
    method, rest = request_line.split(" ", 1)
    target = rest.rsplit(" ", 1)[0]
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            name, value = headers[-1]
            headers[-1] = (name, f"{value}\n{line}")
            continue
        name, _, value = line.partition(":")
        headers.append((name, value))
    path, _, query = target.partition("?")
    return sigv4.RequestParts(method, path, query, headers, body.encode("latin-1"))


def signed_request(case: Path) -> sigv4.RequestParts:
    """The case's .sreq, with the Authorization value taken from .authz."""
    parts = read_request(_file(case, "sreq"))
    authz = _file(case, "authz").decode("latin-1")
    headers = [(n, authz if n.lower() == "authorization" else v) for n, v in parts.headers]
    return parts._replace(headers=headers)


def verify(parts: sigv4.RequestParts, **overrides: object) -> sigv4.SignedRequest:
    options: dict[str, object] = {
        "now": NOW,
        "expected_region": REGION,
        "expected_service": SERVICE,
    }
    options.update(overrides)
    return sigv4.verify(parts, SECRET, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_canonical_request_matches_byte_for_byte(case: Path) -> None:
    signed = sigv4.parse(signed_request(case))
    assert sigv4.canonical_request(signed).encode("latin-1") == _file(case, "creq")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_string_to_sign_matches_byte_for_byte(case: Path) -> None:
    signed = sigv4.parse(signed_request(case))
    sts = sigv4.string_to_sign(signed, sigv4.canonical_request(signed))
    assert sts.encode("ascii") == _file(case, "sts")


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_verifies(case: Path) -> None:
    signed = verify(signed_request(case))
    assert signed.access_key_id == "AKIDEXAMPLE"
    assert str(signed.scope) == "20150830/us-east-1/service/aws4_request"
    assert signed.timestamp == "20150830T123600Z"


def test_suite_is_complete() -> None:
    assert len(CASES) == 34


def test_the_known_bad_sreq_is_rejected() -> None:
    """Its Signature is get-vanilla's: a signature made for another request must not pass."""
    case = SUITE / BAD_SREQ
    with pytest.raises(sigv4.SignatureMismatch):
        verify(read_request(_file(case, "sreq")))


def test_session_token_added_after_signing() -> None:
    """post-sts-header-after: the token is not signed. Accepted by default; a stricter policy
    rejects it, and changing the unsigned token does not break the signature."""
    parts = signed_request(SUITE / "post-sts-token" / "post-sts-header-after")
    signed = verify(parts)
    assert signed.session_token is not None
    assert signed.session_token.startswith("AQoDYXdzEPT")
    assert not signed.session_token_signed
    other = [(n, "other" if n == "X-Amz-Security-Token" else v) for n, v in parts.headers]
    verify(parts._replace(headers=other))
    with pytest.raises(sigv4.InvalidSignature) as caught:
        verify(parts, require_signed_session_token=True)
    assert caught.value.message == (
        "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization."
    )


def test_signed_session_token_is_reported() -> None:
    parts = signed_request(SUITE / "post-sts-token" / "post-sts-header-before")
    signed = verify(parts, require_signed_session_token=True)
    assert signed.session_token_signed


# -- tampering --------------------------------------------------------------------------------

Tamper = Callable[[sigv4.RequestParts], sigv4.RequestParts]


def _set_header(name: str, occurrence: int, change: Callable[[str], str]) -> Tamper:
    def apply(parts: sigv4.RequestParts) -> sigv4.RequestParts:
        headers, seen = [], 0
        for n, v in parts.headers:
            if n.lower() == name:
                if seen == occurrence:
                    v = change(v)
                seen += 1
            headers.append((n, v))
        return parts._replace(headers=headers)

    return apply


def _drop_header(name: str) -> Tamper:
    def apply(parts: sigv4.RequestParts) -> sigv4.RequestParts:
        kept = [(n, v) for n, v in parts.headers if n.lower() != name]
        return parts._replace(headers=kept)

    return apply


def _reverse_header(name: str) -> Tamper:
    def apply(parts: sigv4.RequestParts) -> sigv4.RequestParts:
        values = [v for n, v in parts.headers if n.lower() == name][::-1]
        headers = [(n, values.pop(0) if n.lower() == name else v) for n, v in parts.headers]
        return parts._replace(headers=headers)

    return apply


def _set_query(index: int, part: int) -> Tamper:
    def apply(parts: sigv4.RequestParts) -> sigv4.RequestParts:
        pieces = parts.query.split("&")
        name, _, value = pieces[index].partition("=")
        if part == 0:
            name = "x" + name
        else:
            value += "x"
        pieces[index] = f"{name}={value}"
        return parts._replace(query="&".join(pieces))

    return apply


def _authorization(change: Callable[[str], str]) -> Tamper:
    return _set_header("authorization", 0, change)


def _credential_piece(position: int, value: str) -> Callable[[str], str]:
    def change(header: str) -> str:
        start = header.index("Credential=") + len("Credential=")
        end = header.index(",", start)
        pieces = header[start:end].split("/")
        pieces[position] = value
        return header[:start] + "/".join(pieces) + header[end:]

    return change


def _flip_last(header: str) -> str:
    return header[:-1] + ("0" if header[-1] != "0" else "1")


def tampers(case: Path) -> list[tuple[str, Tamper, dict[str, object]]]:
    """Every signed element of the case, each changed on its own (with verify() overrides)."""
    parts = signed_request(case)
    signed = sigv4.parse(parts)
    found: list[tuple[str, Tamper, dict[str, object]]] = [
        ("method", lambda p: p._replace(method="PUT" if p.method != "PUT" else "GET"), {}),
        ("path", lambda p: p._replace(path=p.path + "x"), {}),
        ("body", lambda p: p._replace(body=p.body + b"x"), {}),
        ("signature", _authorization(_flip_last), {}),
        (
            "date",
            _set_header("x-amz-date", 0, lambda v: v.replace("123600Z", "123601Z")),
            {},
        ),
        ("scope-region", _authorization(_credential_piece(2, "us-west-2")), {}),
        (
            "scope-region-expected",
            _authorization(_credential_piece(2, "us-west-2")),
            {"expected_region": "us-west-2"},
        ),
        (
            "scope-service-expected",
            _authorization(_credential_piece(3, "other")),
            {"expected_service": "other"},
        ),
        ("scope-date", _authorization(_credential_piece(1, "20150831")), {}),
    ]
    if parts.query:
        for i in range(len(parts.query.split("&"))):
            found.append((f"query[{i}].name", _set_query(i, 0), {}))
            found.append((f"query[{i}].value", _set_query(i, 1), {}))
    for name in signed.signed_headers:
        if name == "x-amz-date":
            continue
        count = sum(1 for n, _ in parts.headers if n.lower() == name)
        for occurrence in range(count):
            tamper = _set_header(name, occurrence, lambda v: v + "x")
            found.append((f"header:{name}[{occurrence}]", tamper, {}))
        found.append((f"drop:{name}", _drop_header(name), {}))
        values = [v for n, v in parts.headers if n.lower() == name]
        if len(set(values)) > 1:
            found.append((f"reorder:{name}", _reverse_header(name), {}))
    return found


TAMPERS = [
    pytest.param(case, tamper, overrides, id=f"{_case_id(case)}:{label}")
    for case in CASES
    for label, tamper, overrides in tampers(case)
]


@pytest.mark.parametrize(("case", "tamper", "overrides"), TAMPERS)
def test_tampered_signed_element_fails(
    case: Path, tamper: Tamper, overrides: dict[str, object]
) -> None:
    tampered = tamper(signed_request(case))
    assert tampered != signed_request(case)
    with pytest.raises(sigv4.InvalidSignature):
        verify(tampered, **overrides)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_unsigned_header_injected_still_verifies(case: Path) -> None:
    parts = signed_request(case)
    injected = parts._replace(headers=[*parts.headers, ("X-Injected", "anything")])
    verify(injected)
