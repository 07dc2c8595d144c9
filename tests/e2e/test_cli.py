"""The command line: `authgate validate` and `authgate serve` as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support import REPO, free_port, openapi, proxy_to, wait_for

DEMO = REPO / "examples" / "demo" / "authgate.yaml"
AUTHGATE = [sys.executable, "-m", "authgate"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AUTHGATE, *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False
    )


def test_validate_accepts_the_demo() -> None:
    result = run("validate", str(DEMO))
    assert result.returncode == 0, result.stderr
    assert "ok:" in result.stdout


def test_validate_lists_every_problem_with_its_location(tmp_path: Path) -> None:
    definition = openapi(
        {
            "/a": {"get": {**proxy_to("Nope"), "x-amazon-apigateway-request-validator": "all"}},
            "/b": {
                "get": {"x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "ftp://x"}}
            },
        },
        **{"x-amazon-apigateway-minimum-compression-size": 10},
    )
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(definition))
    result = run("validate", str(tmp_path / "api.yaml"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert any("#/x-amazon-apigateway-minimum-compression-size" in line for line in lines)
    assert any("#/paths/~1a/get/x-amazon-apigateway-request-validator" in line for line in lines)
    assert any("#/paths/~1b/get/x-amazon-apigateway-integration/uri" in line for line in lines)


def test_validate_settings_reports_unknown_function_and_key(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(openapi({"/a": {"get": proxy_to("Nope")}})))
    (tmp_path / "authgate.yaml").write_text(
        yaml.safe_dump(
            {
                "regoin": "us-east-1",
                "apis": [{"definition": "api.yaml", "stages": [{"name": "prod"}]}],
            }
        )
    )
    result = run("validate", str(tmp_path / "authgate.yaml"))
    assert result.returncode == 1
    assert "unknown key 'regoin'" in result.stderr


def test_serve_demo_and_shut_down_gracefully(tmp_path: Path) -> None:
    """The demo answers; SIGTERM lets a request in flight finish and then exits."""
    port, echo_port = free_port(), free_port()
    config = yaml.safe_load(DEMO.read_text())
    config["echo_backend"] = {"host": "127.0.0.1", "port": echo_port}
    config["apis"][0]["stages"][0]["variables"]["backend"] = f"http://127.0.0.1:{echo_port}"
    config["apis"][0]["definition"] = str(DEMO.parent / "openapi.yaml")
    for function in config["functions"].values():
        function["handler"] = str(DEMO.parent / function["handler"])
    config["functions"]["Sleepy"] = {
        "handler": str(Path(__file__).parent / "handlers" / "behaviours.py:slow"),
        "timeout": 10,
    }
    definition = yaml.safe_load((DEMO.parent / "openapi.yaml").read_text())
    definition["paths"]["/sleepy"] = {"get": proxy_to("Sleepy")}
    public = definition["x-amazon-apigateway-policy"]["Statement"][0]
    public["Resource"].append("execute-api:/prod/GET/sleepy")
    (tmp_path / "openapi.yaml").write_text(yaml.safe_dump(definition))
    config["apis"][0]["definition"] = "openapi.yaml"
    config["data_dir"] = "data"
    (tmp_path / "authgate.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [*AUTHGATE, "serve", "--config", str(tmp_path / "authgate.yaml"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_for(lambda: _up(base), timeout=20):
            proc.kill()
            _, err = proc.communicate(timeout=5)
            pytest.fail(f"gateway did not start: {err.decode()[-2000:]}")
        hello = httpx.get(f"{base}/prod/hello", params={"name": "Ada"})
        assert hello.status_code == 200
        assert hello.json()["message"] == "Hello, Ada!"
        echoed = httpx.post(f"{base}/prod/backend/anything?x=1", content=b"hi")
        assert echoed.json()["path"] == "/anything"
        assert echoed.json()["body"] == "hi"
        results: list[httpx.Response] = []
        slow = threading.Thread(
            target=lambda: results.append(httpx.get(f"{base}/prod/sleepy", timeout=10))
        )
        slow.start()
        time.sleep(0.4)
        proc.send_signal(signal.SIGTERM)
        slow.join(timeout=10)
        assert results
        assert results[0].status_code == 200
        assert results[0].text == "late"
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert b'"path":"/prod/hello"' in out  # the access log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=5)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False
