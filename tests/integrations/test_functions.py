"""The function map: naming functions in URIs, and loading handlers by file or module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from authgate.errors import ConfigError
from authgate.integrations.functions import (
    FunctionLoader,
    FunctionRef,
    LambdaFunction,
    function_name_from_arn,
    load_functions,
)

HANDLERS = Path(__file__).resolve().parent / "handlers"


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld/invocations",
            "HelloWorld",
        ),
        (
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:eu-west-1:123456789012:function:hello-world_2:live/invocations",
            "hello-world_2",
        ),
        ("arn:aws:lambda:us-east-1:123456789012:function:Bare", "Bare"),
        ("arn:aws:lambda:us-east-1:123456789012:function:Bare:7", "Bare"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:China", "China"),
        ("function:Short", "Short"),
        ("function:Short:$LATEST", "Short"),
        ("http://example.com/function:nope/x", None),
        ("arn:aws:lambda:us-east-1:123456789012:function:", None),
        ("arn:aws:lambda:us-east-1:123456789012:function:a:b:c", None),
        ("arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}", None),
        ("HelloWorld", None),
        ("", None),
    ],
)
def test_function_name_from_arn(uri: str, name: str | None) -> None:
    assert function_name_from_arn(uri) == name


def test_file_reference_loads_once_under_a_unique_module_name() -> None:
    loader = FunctionLoader(HANDLERS)
    first = loader.resolve("lambda_behaviours.py:hello", "#/functions/A/handler")
    second = FunctionLoader(HANDLERS.parent).resolve(
        "handlers/lambda_behaviours.py:boom", "#/functions/B/handler"
    )
    assert first({}, None) == {"message": "hello"}
    assert first.__module__ == second.__module__
    assert first.__module__.startswith("authgate_fn_lambda_behaviours_")
    assert sys.modules[first.__module__].boom is second


def test_module_reference_and_dotted_attribute() -> None:
    loader = FunctionLoader(HANDLERS)
    assert loader.resolve("os.path:join", "x")("a", "b") == "a/b"
    assert loader.resolve("os:path.basename", "x")("/a/b") == "b"


def test_load_builds_the_function_with_its_limits() -> None:
    ref = FunctionRef("Hello", "lambda_behaviours.py:hello", timeout=10, memory=256)
    function = FunctionLoader(HANDLERS).load(ref, "#/functions/Hello")
    assert isinstance(function, LambdaFunction)
    assert (function.name, function.timeout, function.memory) == ("Hello", 10.0, 256)
    assert FunctionRef("D", "x:y").timeout == 3.0  # AWS Lambda's default
    assert FunctionRef("D", "x:y").memory == 128


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_colon_here", "is not 'file.py:function'"),
        ("lambda_behaviours.py:", "is not 'file.py:function'"),
        ("missing.py:handler", "no such file"),
        ("lambda_behaviours.py:nothing_here", "has no attribute 'nothing_here'"),
        ("lambda_behaviours.py:NOT_CALLABLE", "is not callable"),
        ("authgate_no_such_module_xyz:handler", "importing authgate_no_such_module_xyz failed"),
        ("not a module!:handler", "neither a .py file nor a module name"),
    ],
)
def test_resolve_problems(reference: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FunctionLoader(HANDLERS).resolve(reference, "#/functions/F/handler")
    [problem] = caught.value.problems
    assert problem.location == "#/functions/F/handler"
    assert message in problem.message


def test_a_file_that_fails_to_import_is_reported_and_not_kept(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import authgate_no_such_module_xyz\n", encoding="utf-8")
    (tmp_path / "syntax.py").write_text("def handler(:\n", encoding="utf-8")
    (tmp_path / "exits.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    loader = FunctionLoader(tmp_path)
    for name, error in (
        ("broken", "ModuleNotFoundError"),
        ("syntax", "SyntaxError"),
        ("exits", "SystemExit"),
    ):
        with pytest.raises(ConfigError) as caught:
            loader.resolve(f"{name}.py:handler", "loc")
        assert error in caught.value.problems[0].message
        assert not any(m.startswith(f"authgate_fn_{name}_") for m in sys.modules)


def test_load_functions_reports_every_broken_entry() -> None:
    refs = {
        "Good": FunctionRef("Good", "lambda_behaviours.py:hello"),
        "Bad1": FunctionRef("Bad1", "lambda_behaviours.py:absent"),
        "Bad2": FunctionRef("Bad2", "nowhere.py:handler"),
    }
    with pytest.raises(ConfigError) as caught:
        load_functions(refs, HANDLERS)
    assert [p.location for p in caught.value.problems] == [
        "#/functions/Bad1/handler",
        "#/functions/Bad2/handler",
    ]
    functions = load_functions([refs["Good"]], HANDLERS)
    assert list(functions) == ["Good"]
    assert functions["Good"].handler({}, None) == {"message": "hello"}
