"""How the command line reaches a running gateway: endpoint, profile, region, and errors.

The CLI is a client of the management API like boto3 or the AWS CLI: every call is signed
with a profile's access key and authorized by the gateway's IAM, never a back door to the
records. Failures become one line a person can act on.
"""

from __future__ import annotations

import configparser
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

DEFAULT_ENDPOINT = "http://127.0.0.1:8080"
DEFAULT_DATA_DIR = Path(".authgate")
DEFAULT_REGION = "us-east-1"
TIMEOUT = 30.0
"""Seconds to wait for the gateway to answer one call."""

EndpointOption = Annotated[
    str,
    typer.Option(
        "--endpoint-url", envvar="AUTHGATE_ENDPOINT", help="The running gateway's base URL."
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The gateway's data dir, holding `credentials` and `config` "
        "[default: .authgate, or $AWS_SHARED_CREDENTIALS_FILE and $AWS_CONFIG_FILE]",
        show_default=False,
    ),
]
ProfileOption = Annotated[str, typer.Option("--profile", help="Profile in the credentials file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class CliError(Exception):
    """A failure the user can act on, printed as one `error: ...` line (exit status 1)."""


class ApiError(CliError):
    """The gateway answered an authgate endpoint with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class Profile:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str = DEFAULT_REGION


def profile_files(data_dir: Path | None) -> tuple[Path, Path]:
    """(credentials file, config file): the data dir's when given, else AWS's environment
    variables, else `.authgate/`."""
    if data_dir is not None:
        return data_dir / "credentials", data_dir / "config"
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
    config = os.environ.get("AWS_CONFIG_FILE")
    return (
        Path(credentials) if credentials else DEFAULT_DATA_DIR / "credentials",
        Path(config) if config else DEFAULT_DATA_DIR / "config",
    )


def load_profile(data_dir: Path | None, name: str) -> Profile:
    """A profile from AWS's shared credentials file and its region from the config file."""
    credentials_file, config_file = profile_files(data_dir)
    if not credentials_file.is_file():
        raise CliError(
            f"no credentials file at {credentials_file}: start the gateway once (it writes one), "
            "or pass --data-dir"
        )
    credentials = _read_ini(credentials_file)
    if not credentials.has_section(name):
        raise CliError(f"no profile [{name}] in {credentials_file}")
    section = credentials[name]
    key_id = section.get("aws_access_key_id")
    secret = section.get("aws_secret_access_key")
    if not key_id or not secret:
        raise CliError(f"profile [{name}] in {credentials_file} has no access key and secret")
    region = DEFAULT_REGION
    if config_file.is_file():
        config = _read_ini(config_file)
        config_section = name if name == "default" else f"profile {name}"
        if config.has_section(config_section):
            region = config[config_section].get("region", DEFAULT_REGION)
    return Profile(key_id, secret, section.get("aws_session_token"), region)


def _read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, configparser.Error) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    return parser


@dataclass(frozen=True, slots=True)
class Gateway:
    """A running gateway and the profile the CLI signs its calls with."""

    endpoint_url: str
    profile: Profile

    @property
    def credentials(self) -> Any:
        """botocore's Credentials for the profile."""
        from botocore.credentials import Credentials  # type: ignore[import-untyped]

        profile = self.profile
        return Credentials(profile.access_key_id, profile.secret_access_key, profile.session_token)

    def iam(self) -> Any:
        """A botocore `iam` client pointed at the gateway (the client boto3 would build)."""
        return self._client("iam")

    def apigateway(self) -> Any:
        """A botocore `apigateway` client pointed at the gateway, for API keys and usage plans."""
        return self._client("apigateway")

    def cognito(self) -> Any:
        """A botocore `cognito-idp` client pointed at the gateway, for user pools and users."""
        return self._client("cognito-idp")

    def _client(self, service: str) -> Any:
        from botocore.config import Config  # type: ignore[import-untyped]
        from botocore.session import get_session  # type: ignore[import-untyped]

        profile = self.profile
        return get_session().create_client(
            service,
            region_name=profile.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=profile.access_key_id,
            aws_secret_access_key=profile.secret_access_key,
            aws_session_token=profile.session_token,
            config=Config(
                retries={"total_max_attempts": 1},
                connect_timeout=TIMEOUT,
                read_timeout=TIMEOUT,
            ),
        )

    def call(self, method: str, path: str, payload: object | None = None) -> Any:
        """A SigV4-signed JSON call (service `apigateway`) to one of authgate's own
        `/_authgate/...` endpoints; its decoded JSON answer, or ApiError."""
        from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
        from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]

        url = self.endpoint_url.rstrip("/") + path
        body = b"" if payload is None else orjson.dumps(payload)
        headers = {} if payload is None else {"content-type": "application/json"}
        signing = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(self.credentials, "apigateway", self.profile.region).add_auth(signing)
        request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked in connect
            url, data=body or None, headers=dict(signing.headers.items()), method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return orjson.loads(response.read())
        except urllib.error.HTTPError as error:
            raise _api_error(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            text = reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
            raise CliError(unreachable(self.endpoint_url, str(text))) from None
        except orjson.JSONDecodeError:
            raise CliError(f"{url} did not answer JSON: is it an authgate gateway?") from None


def connect(endpoint_url: str, data_dir: Path | None, profile: str) -> Gateway:
    if not endpoint_url.startswith(("http://", "https://")):
        raise CliError(f"--endpoint-url must be an http:// or https:// URL: {endpoint_url}")
    return Gateway(endpoint_url, load_profile(data_dir, profile))


def unreachable(endpoint_url: str, reason: str) -> str:
    return f"cannot reach a gateway at {endpoint_url} ({reason}): is `authgate serve` running?"


def _api_error(error: urllib.error.HTTPError) -> ApiError:
    text = error.read()
    try:
        message = str(orjson.loads(text).get("message"))
    except (orjson.JSONDecodeError, AttributeError):
        message = text.decode("utf-8", "replace").strip() or str(error.reason)
    code = error.headers.get("x-amzn-ErrorType") or f"HTTP {error.code}"
    return ApiError(error.code, code.split(":", 1)[0], message)


def one_line(exc: BaseException) -> str | None:
    """The one line to print for a failure the user can act on; None for anything else (a bug,
    whose traceback should be seen)."""
    if isinstance(exc, CliError):
        return str(exc)
    from botocore import exceptions as boto  # type: ignore[import-untyped]

    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Error")
        message = error.get("Message", "")
        if code == "InvalidClientTokenId":
            message += " (is this profile's access key one of this gateway's?)"
        return f"{code}: {message}"
    if isinstance(exc, boto.ReadTimeoutError | boto.ConnectTimeoutError):
        return f"the gateway did not answer in time: {exc}"
    if isinstance(exc, boto.EndpointConnectionError | boto.ConnectionClosedError):
        endpoint_url = str(exc.kwargs.get("endpoint_url", "")).rstrip("/")
        return unreachable(endpoint_url, "could not connect")
    if isinstance(exc, boto.ParamValidationError):
        return str(exc).replace("\n", " ")
    return None
