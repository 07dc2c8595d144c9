"""Data-plane benchmark: authgate as a reverse proxy, against nginx doing the same job.

One run starts nginx serving a small static JSON file (the backend), nginx as a plain reverse
proxy to it with upstream keep-alive, and authgate (one process) with HTTP_PROXY routes to the
same backend: one with no authorization, one protected by IAM (every request SigV4-verified
and its policies evaluated), one behind a TOKEN authorizer whose result is cached (its policy
still decides every request), one behind a JWT authorizer (the caller's verified token found in
the cache by its digest), and API-key routes; then drives the same keep-alive GET load
through each with wrk and prints requests/s and latency percentiles, with ratios: authgate /
nginx, and each protected route / the no-auth route. Each ratio comes from back-to-back pairs
of runs (the route, then its reference, or the other way round every other round), so the
drift of a shared machine over minutes does not land on one side. The proxy under test runs
on CPU 0, backend and wrk on CPU 1. Everything it starts is stopped by PID when it ends,
however it ends.

    bench/run.sh [--duration 3] [--rounds 7] [--only TEXT] [--strict]

`--strict` exits non-zero unless authgate reaches half of nginx's requests/s with p99 < 10 ms,
the IAM and JWT routes 0.8 of the no-auth route and the cached custom-authorizer route 0.85
of it.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parents[1]
BODY = b'{"message":"hello from the backend","ok":true,"n":1234567890}\n'
BENCH_TOKEN = "bench-token-0123456789"  # noqa: S105 - the bench's own token
AUTHORIZER = f"""
def handler(event, context):
    allowed = event["authorizationToken"] == {BENCH_TOKEN!r}
    api = event["methodArn"].split("/")[0]
    return {{
        "principalId": "bench",
        "policyDocument": {{
            "Version": "2012-10-17",
            "Statement": [{{
                "Action": "execute-api:Invoke",
                "Effect": "Allow" if allowed else "Deny",
                "Resource": api + "/*",
            }}],
        }},
        "context": {{"tenant": "bench"}},
    }}
"""
"""The TOKEN authorizer of the custom route: plain Python, as deployed to Lambda."""
JWT_SECRET_ENV = "AUTHGATE_BENCH_JWT_SECRET"  # noqa: S105 - a variable's name
NO_AUTH = "authgate, no auth"
JWT_ISSUER = "https://bench.example"
POOL_ID = "us-east-1_BenchPool1"
POOL_CLIENT = "bench0app0client000000000"
TARGET_RATIO = 0.5
TARGET_P99_MS = 10.0
TARGET_IAM_RATIO = 0.8
TARGET_CUSTOM_RATIO = 0.85
TARGET_JWT_RATIO = 0.8
TARGET_POOL_RATIO = 0.8
TARGET_KEY_MEMORY = 0.9
TARGET_KEY_REDIS = 0.7


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    cpu_us: float = 0.0
    """CPU time (user + system) the proxy under test spent per request: unlike requests/s, a
    neighbour on a shared machine taking CPU away does not change it."""


class Processes:
    """Children started in their own sessions, so Ctrl-C reaches only us; stopped by PID."""

    def __init__(self) -> None:
        self._started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self,
        name: str,
        argv: list[str],
        log: Path,
        cwd: Path,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        self._started.append((name, process))
        return process

    def stop_all(self) -> None:
        for _, process in reversed(self._started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, process in reversed(self._started):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"{name} (pid {process.pid}) ignored SIGTERM; killing it", file=sys.stderr)
                process.kill()
                process.wait(timeout=5)
        self._started.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], name: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on port {port} within 20 s")


def pinned(cpu: int | None, argv: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    if cpu is None or taskset is None:
        return argv
    return [taskset, "-c", str(cpu), *argv]


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        raise SystemExit("nginx is not installed (bench/run.sh installs it)")
    return found


def nginx_config(work: Path, name: str, server_block: str) -> Path:
    """A self-contained nginx.conf: every path it writes is inside `work`."""
    temp = work / f"{name}-temp"
    temp.mkdir(mode=0o777, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    text = f"""{user}worker_processes 1;
daemon off;
pid {work / name}.pid;
error_log {work / name}-error.log warn;
events {{ worker_connections 4096; multi_accept on; }}
http {{
    access_log off;
    default_type application/json;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    {server_block}
}}
"""
    path = work / f"{name}.conf"
    path.write_text(text)
    return path


def proxied(prefix: str, verb: str, scheme: str | None, backend_port: int) -> str:
    """One `{prefix}/{proxy+}` path of the bench definition: an HTTP_PROXY to the backend,
    behind the security scheme `scheme` (None: open)."""
    security = f"\n      security: [{{{scheme}: []}}]" if scheme else ""
    return f"""  {prefix}/{{proxy+}}:
    {verb}{security}
      parameters:
        - {{name: proxy, in: path, required: true, schema: {{type: string}}}}
      x-amazon-apigateway-integration:
        type: http_proxy
        httpMethod: GET
        uri: "http://127.0.0.1:{backend_port}/{{proxy}}"
        requestParameters:
          integration.request.path.proxy: method.request.path.proxy"""


def authgate_files(work: Path, backend_port: int, counters: str) -> Path:
    """Settings and an OpenAPI definition: unauthenticated, IAM, custom-authorizer, JWT,
    user-pool and API-key HTTP_PROXY routes."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench_auth.py").write_text(AUTHORIZER)
    jwt_secret()
    authorizer_uri = (
        "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
        "arn:aws:lambda:us-east-1:123456789012:function:BenchAuth/invocations"
    )
    (work / "openapi.yaml").write_text(
        f"""openapi: 3.0.1
info: {{title: bench, version: "1"}}
components:
  securitySchemes:
    sigv4: {{type: apiKey, name: Authorization, in: header, x-amazon-apigateway-authtype: awsSigv4}}
    api_key: {{type: apiKey, name: x-api-key, in: header}}
    token_auth:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer:
        type: token
        authorizerUri: {authorizer_uri}
        authorizerResultTtlInSeconds: 300
    jwt_auth:
      type: http
      scheme: bearer
      x-authgate-jwt: {{issuer: "{JWT_ISSUER}", secret: {{env: {JWT_SECRET_ENV}}}}}
    pool_auth:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: cognito_user_pools
      x-amazon-apigateway-authorizer:
        type: cognito_user_pools
        providerARNs: ["arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL_ID}"]
paths:
{proxied("/pool", "get:", "pool_auth", backend_port)}
{proxied("/jwt", "get:", "jwt_auth", backend_port)}
{proxied("/custom", "get:", "token_auth", backend_port)}
{proxied("/keyed", "get:", "api_key", backend_port)}
{proxied("/iam", "get:", "sigv4", backend_port)}
{proxied("", "x-amazon-apigateway-any-method:", None, backend_port)}
"""
    )
    config = work / "authgate.yaml"
    config.write_text(
        f"""region: us-east-1
account_id: "123456789012"
data_dir: data
access_log: access.log
log_level: WARNING
counters: {counters}
# AWS's default account throttle (10,000 rps) would cap the proxy under test: lift it here.
account_throttle: {{rate: 1000000, burst: 1000000}}
functions:
  BenchAuth: {{handler: "bench_auth.py:handler"}}
user_pools:
  - id: {POOL_ID}
    name: bench
    clients:
      - id: {POOL_CLIENT}
        name: bench
        settings:
          ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
apis:
  - id: bench01
    definition: openapi.yaml
    stages:
      - name: bench
"""
    )
    return config


_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(name: str, output: str) -> Result:
    rps = _RPS.search(output)
    requests = _REQUESTS.search(output)
    percentiles = {
        m.group(1): float(m.group(2)) * _UNIT_MS[m.group(3)] for m in _LATENCY.finditer(output)
    }
    if rps is None or requests is None or "50" not in percentiles or "99" not in percentiles:
        raise RuntimeError(f"cannot read wrk's output for {name}:\n{output}")
    errors = 0
    for match in re.finditer(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(match.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return Result(
        name,
        float(rps.group(1)),
        percentiles["50"],
        percentiles["99"],
        errors,
        int(requests.group(1)),
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (nginx's worker), from /proc."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(child) for child in (task / "children").read_text().split()]
    for one in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


_TICKS = os.sysconf("SC_CLK_TCK")


def run_wrk(
    url: str, seconds: float, connections: int, cpu: int | None, headers: dict[str, str]
) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (bench/run.sh installs it)")
    extra = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    argv = pinned(
        cpu,
        [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", *extra, url],
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
    return done.stdout


Target = tuple[str, str, dict[str, str], int]
"""(name, URL, extra request headers, PID of the process serving it)."""


NGINX = "nginx proxy"


def references() -> dict[str, str]:
    """Each compared target and the one it is a ratio of."""
    return {NO_AUTH: NGINX, **{name: NO_AUTH for _, name, _ in ROUTE_TARGETS}}


def measure(
    targets: list[Target], args: argparse.Namespace, cpu: int | None
) -> tuple[list[Result], Ratios]:
    """Warm each target up, then measure them `rounds` times. A compared target runs right
    after (or, every other round, right before) the target it is a ratio of, and its ratio is
    the median of those pairs: a shared machine's speed drifts over minutes, and a pair of
    back-to-back runs sees the same machine. Each target's row is its median run."""
    for _, url, headers, _ in targets:
        check_once(url, headers)
        if args.warmup > 0:
            run_wrk(url, args.warmup, args.connections, cpu, headers)
    named = {target[0]: target for target in targets}
    pairs = {name: ref for name, ref in references().items() if name in named and ref in named}
    referenced = set(pairs.values())
    runs: dict[str, list[Result]] = {name: [] for name in named}
    ratios: dict[str, list[float]] = {name: [] for name in pairs}
    cpu_ratios: dict[str, list[float]] = {name: [] for name in pairs}

    def run(name: str, round_: int) -> Result:
        _, url, headers, pid = named[name]
        before = cpu_seconds(pid)
        output = run_wrk(url, args.duration, args.connections, cpu, headers)
        result = parse_wrk(name, output)
        used = cpu_seconds(pid) - before
        result = dataclasses.replace(result, cpu_us=used / max(1, result.requests) * 1e6)
        runs[name].append(result)
        print(
            f"  round {round_ + 1}: {name}: {result.rps:,.0f} req/s, p99 {result.p99_ms:.2f} ms, "
            f"{result.cpu_us:.1f} CPU µs/request",
            file=sys.stderr,
        )
        return result

    for round_ in range(args.rounds):
        for name in named:
            reference = pairs.get(name)
            if reference is None:
                if name not in referenced:
                    run(name, round_)
                continue
            if round_ % 2:
                measured = run(name, round_)
                base = run(reference, round_)
            else:
                base = run(reference, round_)
                measured = run(name, round_)
            ratios[name].append(measured.rps / base.rps if base.rps else 0.0)
            cpu_ratios[name].append(base.cpu_us / measured.cpu_us if measured.cpu_us else 0.0)
    medians = [sorted(runs[name], key=lambda r: r.rps)[len(runs[name]) // 2] for name in named]
    return medians, Ratios(
        {name: statistics.median(values) for name, values in ratios.items()},
        {name: statistics.median(values) for name, values in cpu_ratios.items()},
    )


@dataclass
class Ratios:
    wall: dict[str, float]
    """Target → the median of its pairs' requests/s ratios."""
    cpu: dict[str, float]
    """Target → the median of its pairs' ratios of CPU time per request (the reference's over
    the target's): requests per CPU-second, the same ratio with the shared machine's drift
    taken out."""


def check_once(url: str, headers: dict[str, str]) -> None:
    """One plain request first, so a misconfigured target fails loudly instead of fast."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    with socket.create_connection((host, int(port)), 5) as conn:
        lines = [f"GET /{path} HTTP/1.1", f"Host: {host_port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        conn.settimeout(5)
        for _ in range(1000):
            piece = conn.recv(65536)
            if not piece:
                break
            data += piece
    status = data.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" " or not data.endswith(BODY):
        raise RuntimeError(f"{url} did not answer with the backend's body:\n{data[:500]!r}")


def jwt_secret() -> str:
    """The JWT route's shared secret, put in this process's environment for authgate to inherit
    (the definition names the variable, never the secret)."""
    return os.environ.setdefault(JWT_SECRET_ENV, secrets.token_hex(32))


def jwt_headers() -> dict[str, str]:
    """A bearer token for the JWT route, signed with the secret authgate reads from the
    environment (one token, as one caller would send: verified once, then found in the cache)."""
    import jwt

    secret = jwt_secret()
    now = int(time.time())
    claims = {"iss": JWT_ISSUER, "sub": "bench", "iat": now, "exp": now + 3600}
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def authgate_argv(config: Path, port: int) -> list[str]:
    """`authgate serve` on 127.0.0.1:`port` with `config`, as this interpreter runs it."""
    return [
        sys.executable,
        "-m",
        "authgate",
        "serve",
        "--config",
        str(config),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def start_authgate(
    procs: Processes, work: Path, backend_port: int, counters: str
) -> tuple[int, int]:
    """Start authgate on CPU 0; returns its port and PID."""
    port = free_port()
    log = work / "authgate.log"
    config = authgate_files(work, backend_port, counters)
    process = procs.start("authgate", pinned(0, authgate_argv(config, port)), log, work)
    wait_for_port(port, process, "authgate", log)
    return port, process.pid


def admin_credentials(work: Path) -> Credentials:
    profile = configparser.ConfigParser()
    profile.read(work / "data" / "credentials")
    default = profile["default"]
    return Credentials(default["aws_access_key_id"], default["aws_secret_access_key"])


def api_key(work: Path, port: int) -> dict[str, str]:
    """An API key on a usage plan for the bench stage, with a throttle and a quota far above
    what the run sends (so every request pays for both checks and none is refused)."""
    import botocore.session

    credentials = admin_credentials(work)
    client = botocore.session.get_session().create_client(
        "apigateway",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
    )
    plan = client.create_usage_plan(
        name="bench",
        apiStages=[{"apiId": "bench01", "stage": "bench"}],
        throttle={"rateLimit": 1_000_000.0, "burstLimit": 1_000_000},
        quota={"limit": 1_000_000_000, "period": "DAY"},
    )
    key = client.create_api_key(name="bench", enabled=True)
    client.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return {"x-api-key": key["value"]}


def pool_headers(work: Path, port: int) -> dict[str, str]:
    """An ID token of the bench pool: a user made by the administrator, signed in once with
    USER_PASSWORD_AUTH (one token, as one caller sends: verified once, then found in the
    cache, and its session checked against revocations on every request)."""
    import boto3

    credentials = admin_credentials(work)
    client = boto3.client(
        "cognito-idp",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
    )
    password = f"Bench-{secrets.token_hex(8)}-Aa1!"
    client.admin_create_user(UserPoolId=POOL_ID, Username="bench", MessageAction="SUPPRESS")
    client.admin_set_user_password(
        UserPoolId=POOL_ID, Username="bench", Password=password, Permanent=True
    )
    answer = client.initiate_auth(
        ClientId=POOL_CLIENT,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "bench", "PASSWORD": password},
    )
    return {"Authorization": answer["AuthenticationResult"]["IdToken"]}


def start_redis(procs: Processes, work: Path, cpu: int | None) -> str | None:
    server = shutil.which("redis-server")
    if server is None:
        print("redis-server is not installed: the Redis rows are left out", file=sys.stderr)
        return None
    port = free_port()
    data = work / "redis"
    data.mkdir()
    argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(data)]
    process = procs.start("redis", pinned(cpu, argv), work / "redis.log", work)
    wait_for_port(port, process, "redis", work / "redis.log")
    return f"redis://127.0.0.1:{port}/0"


def signed_headers(work: Path, url: str) -> dict[str, str]:
    """Headers of a GET signed with the administrator key authgate wrote on first start.

    wrk replays the one signed request: valid for the 5-minute clock-skew window, and
    verified in full (signature and policies) on every request.
    """
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(admin_credentials(work), "execute-api", "us-east-1").add_auth(request)
    return {k: v for k, v in request.headers.items() if k.lower() != "host"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per target")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--rounds",
        type=int,
        default=7,
        help="pairs of runs per ratio, and runs per target (medians are reported)",
    )
    parser.add_argument("--strict", action="store_true", help="fail when the target is missed")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="measure only the targets whose name contains TEXT (repeatable), and the no-auth "
        "route they are compared with",
    )
    args = parser.parse_args(argv)

    nginx = find_nginx()
    cpus = os.cpu_count() or 1
    proxy_cpu, load_cpu = (0, 1) if cpus >= 2 else (None, None)
    if proxy_cpu is None:
        print("warning: fewer than 2 CPUs, running unpinned", file=sys.stderr)

    procs = Processes()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with tempfile.TemporaryDirectory(prefix="authgate-bench-") as temp:
            work = Path(temp)
            work.chmod(0o755)
            www = work / "www"
            www.mkdir(mode=0o755)
            (www / "data.json").write_bytes(BODY)
            (www / "data.json").chmod(0o644)

            backend_port = free_port()
            backend_conf = nginx_config(
                work,
                "backend",
                f"server {{ listen 127.0.0.1:{backend_port} reuseport backlog=4096; "
                f"root {www}; location / {{ }} }}",
            )
            log = work / "backend.log"
            backend = procs.start(
                "backend nginx", pinned(load_cpu, [nginx, "-c", str(backend_conf)]), log, work
            )
            wait_for_port(backend_port, backend, "backend nginx", log)

            proxy_port = free_port()
            proxy_conf = nginx_config(
                work,
                "proxy",
                f"upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 64; "
                f"keepalive_requests 100000000; }}\n"
                f"    server {{ listen 127.0.0.1:{proxy_port} backlog=4096; location / {{ "
                f"proxy_pass http://backend; proxy_http_version 1.1; "
                f'proxy_set_header Connection ""; }} }}',
            )
            log = work / "proxy.log"
            proxy = procs.start(
                "proxy nginx", pinned(proxy_cpu, [nginx, "-c", str(proxy_conf)]), log, work
            )
            wait_for_port(proxy_port, proxy, "proxy nginx", log)

            port, pid = start_authgate(procs, work / "memory", backend_port, "memory://")
            base = f"http://127.0.0.1:{port}/bench"
            iam_url = f"{base}/iam/data.json"
            targets: list[Target] = [
                (
                    "backend (direct)",
                    f"http://127.0.0.1:{backend_port}/data.json",
                    {},
                    backend.pid,
                ),
                (NGINX, f"http://127.0.0.1:{proxy_port}/data.json", {}, proxy.pid),
                (NO_AUTH, f"{base}/data.json", {}, pid),
                ("authgate, IAM (SigV4)", iam_url, signed_headers(work / "memory", iam_url), pid),
                (
                    "authgate, custom authorizer (cached)",
                    f"{base}/custom/data.json",
                    {"Authorization": BENCH_TOKEN},
                    pid,
                ),
                (
                    "authgate, JWT (cached verified token)",
                    f"{base}/jwt/data.json",
                    jwt_headers(),
                    pid,
                ),
                (
                    "authgate, user pool (cached ID token)",
                    f"{base}/pool/data.json",
                    pool_headers(work / "memory", port),
                    pid,
                ),
                (
                    "authgate, API key (memory)",
                    f"{base}/keyed/data.json",
                    api_key(work / "memory", port),
                    pid,
                ),
            ]
            redis_url = start_redis(procs, work, load_cpu)
            if redis_url is not None:
                redis_port, redis_pid = start_authgate(
                    procs, work / "redis", backend_port, redis_url
                )
                redis_base = f"http://127.0.0.1:{redis_port}/bench"
                key = api_key(work / "redis", redis_port)
                targets.append(
                    ("authgate, no auth (Redis)", f"{redis_base}/data.json", {}, redis_pid)
                )
                targets.append(
                    ("authgate, API key (Redis)", f"{redis_base}/keyed/data.json", key, redis_pid)
                )

            print(
                f"wrk -c{args.connections} --latency, {args.rounds} x {args.duration:g} s per "
                f"target after {args.warmup:g} s warm-up; proxy on CPU {proxy_cpu}, "
                f"backend and wrk on CPU {load_cpu}",
                file=sys.stderr,
            )
            if args.only:
                wanted = [text.lower() for text in args.only]
                targets = [
                    target
                    for target in targets
                    if target[0] == NO_AUTH or any(text in target[0].lower() for text in wanted)
                ]
            results, ratios = measure(targets, args, load_cpu)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        signal.signal(signal.SIGTERM, previous)

    return report(results, ratios, args.strict)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM ends the run like Ctrl-C does: through the cleanup."""
    raise KeyboardInterrupt


ROUTE_TARGETS = (
    ("IAM route", "authgate, IAM (SigV4)", TARGET_IAM_RATIO),
    ("cached custom authorizer route", "authgate, custom authorizer (cached)", TARGET_CUSTOM_RATIO),
    (
        "JWT route (cached verified token)",
        "authgate, JWT (cached verified token)",
        TARGET_JWT_RATIO,
    ),
    (
        "user-pool route (cached ID token)",
        "authgate, user pool (cached ID token)",
        TARGET_POOL_RATIO,
    ),
    ("API key (memory) route", "authgate, API key (memory)", TARGET_KEY_MEMORY),
    ("API key (Redis) route", "authgate, API key (Redis)", TARGET_KEY_REDIS),
)
"""(label, target name, least requests/s as a share of the no-auth route's)."""


def report(results: list[Result], all_ratios: Ratios, strict: bool) -> int:
    """The table of median runs, then each ratio (the median of its back-to-back pairs), with
    the same ratio by CPU time per request beside it. Targets are judged on requests/s."""
    ratios, cpu = all_ratios.wall, all_ratios.cpu
    width = max(len(r.name) for r in results)
    print(
        f"{'target':<{width}}  {'req/s':>10}  {'p50 ms':>8}  {'p99 ms':>8}  {'errors':>6}"
        f"  {'CPU µs/req':>10}"
    )
    for r in results:
        print(
            f"{r.name:<{width}}  {r.rps:>10,.0f}  {r.p50_ms:>8.2f}  {r.p99_ms:>8.2f}  {r.errors:>6}"
            f"  {r.cpu_us:>10.1f}"
        )
    by_name = {r.name: r for r in results}
    authgate = by_name[NO_AUTH]
    all_met = True
    if NO_AUTH in ratios:
        ratio = ratios[NO_AUTH]
        all_met = ratio >= TARGET_RATIO and authgate.p99_ms < TARGET_P99_MS and authgate.errors == 0
        print(
            f"authgate / nginx = {ratio:.3f}  (target >= {TARGET_RATIO:.2f} with p99 < "
            f"{TARGET_P99_MS:g} ms: {'met' if all_met else 'MISSED'}; "
            f"by CPU time {cpu[NO_AUTH]:.3f})"
        )
    for label, name, target in ROUTE_TARGETS:
        route = by_name.get(name)
        if route is None or name not in ratios:
            continue
        route_ratio = ratios[name]
        route_met = route_ratio >= target and route.errors == 0
        all_met = all_met and route_met
        print(
            f"{label} / no-auth route = {route_ratio:.3f}  (target >= {target:.2f}: "
            f"{'met' if route_met else 'MISSED'}; by CPU time {cpu[name]:.3f})"
        )
    return 1 if strict and not all_met else 0


if __name__ == "__main__":
    sys.exit(main())
