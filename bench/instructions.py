"""Instructions per request, counted by callgrind: a data-plane benchmark that noise cannot move.

Requests per second swing by tens of percent on a shared machine; the number of user-space
instructions a request costs does not (two runs agree within about one percent). This runs
nginx as a plain reverse proxy and authgate (no-auth, IAM, JWT, custom-authorizer, user-pool
and API-key routes) under `valgrind --tool=callgrind`, counts only while a fixed number of
keep-alive requests is in flight, and prints instructions per request with the same ratios as
bench/dataplane.py. Kernel work (the socket calls) is not counted, so the authgate / nginx
ratio here is a floor of the wall-clock one; the route ratios compare like with like.

    .venv/bin/python bench/instructions.py [--requests 2000] [--only "API key"]
"""

from __future__ import annotations

import argparse
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dataplane import (
    BENCH_TOKEN,
    BODY,
    NO_AUTH,
    Processes,
    api_key,
    authgate_argv,
    authgate_files,
    find_nginx,
    free_port,
    jwt_headers,
    jwt_secret,
    nginx_config,
    pool_headers,
    signed_headers,
    wait_for_port,
)

CONNECTIONS = 8
WARMUP = 300


def drive(port: int, path: str, headers: dict[str, str], count: int) -> None:
    """Send exactly `count` GETs over a few keep-alive connections; every answer must be 200
    with the backend's body."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    selector = selectors.DefaultSelector()
    sent = answered = 0
    for _ in range(min(CONNECTIONS, count)):
        conn = socket.create_connection(("127.0.0.1", port), timeout=60)
        conn.setblocking(False)
        selector.register(conn, selectors.EVENT_READ, bytearray())
        conn.sendall(request)
        sent += 1
    try:
        while answered < count:
            events = selector.select(timeout=60)
            if not events:
                raise RuntimeError(f"{path}: no answer within 60 s")
            for key, _ in events:
                conn, buffer = key.fileobj, key.data
                assert isinstance(conn, socket.socket)
                buffer += conn.recv(65536)
                while (end := buffer.find(b"\r\n\r\n")) >= 0:
                    head = bytes(buffer[:end]).lower()
                    length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                    if len(buffer) < end + 4 + length:
                        break
                    if not head.startswith(b"http/1.1 200") or buffer[end + 4 :][:length] != BODY:
                        raise RuntimeError(f"{path}: unexpected answer {bytes(buffer[:200])!r}")
                    del buffer[: end + 4 + length]
                    answered += 1
                    if sent < count:
                        conn.sendall(request)
                        sent += 1
    finally:
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        selector.close()


class Counted:
    """A process under callgrind whose counting is switched on around each measurement."""

    def __init__(self, process: subprocess.Popen[bytes], out: Path) -> None:
        self.process = process
        self.out = out

    def _control(self, *args: str) -> None:
        subprocess.run(
            ["callgrind_control", *args, str(self.process.pid)],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def measure(self, port: int, path: str, headers: dict[str, str], count: int) -> float:
        drive(port, path, headers, WARMUP)
        self._control("-z")
        self._control("-i", "on")
        drive(port, path, headers, count)
        self._control("-i", "off")
        before = set(self.out.parent.glob(self.out.name + "*"))
        self._control("-d")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            new = set(self.out.parent.glob(self.out.name + "*")) - before
            total = _total(new)
            if total is not None:
                return total / count
            time.sleep(0.2)
        raise RuntimeError("callgrind wrote no dump")


def _total(files: set[Path]) -> int | None:
    for file in files:
        text = file.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("totals:"):
                return int(line.split()[1])
    return None


def under_callgrind(
    procs: Processes, name: str, argv: list[str], work: Path, env: dict[str, str]
) -> Counted:
    out = work / f"{name}.callgrind"
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    valgrind.append(f"--callgrind-out-file={out}")
    process = procs.start(name, [*valgrind, *argv], work / f"{name}.log", work, env)
    return Counted(process, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="counted requests per route")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="count only the routes whose name contains TEXT (repeatable), and the no-auth route",
    )
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (Debian package: valgrind)")
    jwt_secret()  # in the environment authgate is started with
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same dict layouts in every run
    procs = Processes()
    try:
        with tempfile.TemporaryDirectory(prefix="authgate-instructions-") as temp:
            work = Path(temp)
            work.chmod(0o755)
            www = work / "www"
            www.mkdir(mode=0o755)
            (www / "data.json").write_bytes(BODY)
            (www / "data.json").chmod(0o644)
            nginx = find_nginx()
            backend_port = free_port()
            backend_conf = nginx_config(
                work, "backend", f"server {{ listen 127.0.0.1:{backend_port}; root {www}; }}"
            )
            backend = procs.start("backend", [nginx, "-c", str(backend_conf)], work / "b.log", work)
            wait_for_port(backend_port, backend, "backend nginx", work / "b.log")

            proxy_port = free_port()
            proxy_conf = nginx_config(
                work,
                "proxy",
                f"upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 16; }}\n"
                f"    server {{ listen 127.0.0.1:{proxy_port}; location / {{ "
                f"proxy_pass http://backend; proxy_http_version 1.1; "
                f'proxy_set_header Connection ""; }} }}',
            )
            proxy = under_callgrind(
                procs,
                "nginx",
                [nginx, "-c", str(proxy_conf), "-g", "master_process off;"],
                work,
                env,
            )
            wait_for_port(proxy_port, proxy.process, "proxy nginx", work / "nginx.log")

            port = free_port()
            config = authgate_files(work / "authgate", backend_port, "memory://")
            gateway = under_callgrind(
                procs,
                "authgate",
                authgate_argv(config, port),
                work / "authgate",
                env,
            )
            wait_for_port(port, gateway.process, "authgate", work / "authgate" / "authgate.log")
            base = f"http://127.0.0.1:{port}/bench"
            state = work / "authgate"
            routes: list[tuple[str, str, Callable[[], dict[str, str]]]] = [
                ("authgate, no auth", "/bench/data.json", dict),
                (
                    "authgate, IAM (SigV4)",
                    "/bench/iam/data.json",
                    lambda: signed_headers(state, f"{base}/iam/data.json"),
                ),
                ("authgate, JWT (cached verified token)", "/bench/jwt/data.json", jwt_headers),
                (
                    "authgate, custom authorizer (cached)",
                    "/bench/custom/data.json",
                    lambda: {"Authorization": BENCH_TOKEN},
                ),
                (
                    "authgate, user pool (cached ID token)",
                    "/bench/pool/data.json",
                    lambda: pool_headers(state, port),
                ),
                (
                    "authgate, API key (memory)",
                    "/bench/keyed/data.json",
                    lambda: api_key(state, port),
                ),
            ]
            rows = [("nginx proxy", proxy.measure(proxy_port, "/data.json", {}, args.requests))]
            for name, path, headers in routes:
                if name == NO_AUTH or any(text in name for text in args.only) or not args.only:
                    rows.append((name, gateway.measure(port, path, headers(), args.requests)))
    finally:
        procs.stop_all()
    report(dict(rows))
    return 0


def report(per_request: dict[str, float]) -> None:
    width = max(len(name) for name in per_request)
    print(f"{'target':<{width}}  {'instructions/request':>20}")
    for name, count in per_request.items():
        print(f"{name:<{width}}  {count:>20,.0f}")
    open_route = per_request[NO_AUTH]
    nginx = per_request["nginx proxy"]
    print(f"nginx / authgate (user-space instructions) = {nginx / open_route:.3f}")
    for name, count in per_request.items():
        if name.startswith("authgate, ") and name != NO_AUTH:
            print(f"no-auth / {name.removeprefix('authgate, ')} = {open_route / count:.3f}")


if __name__ == "__main__":
    sys.exit(main())
