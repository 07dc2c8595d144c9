"""Documents as the management API receives them: reading, merging, settings, import parameters."""

from __future__ import annotations

import json

import pytest

from authgate.definition import documents as docs
from authgate.definition.openapi import parse_definition
from authgate.definition.resources import resource_entries, root_resource_id
from tests.support import openapi

MOCK = {"x-amazon-apigateway-integration": {"type": "mock"}}


def test_json_and_yaml_read_to_the_same_document() -> None:
    doc = openapi({"/a": {"get": MOCK}})
    as_yaml = (
        "openapi: 3.0.1\ninfo: {title: test, version: '1'}\n"
        "paths:\n  /a:\n    get:\n      x-amazon-apigateway-integration: {type: mock}\n"
    )
    assert docs.load_document(json.dumps(doc).encode()) == doc
    assert docs.load_document(as_yaml.encode()) == doc


def test_yaml_values_json_cannot_hold_are_normalised() -> None:
    text = "openapi: 3.0.1\ninfo: {title: t, version: 2024-01-02}\npaths: {}\nx: {200: ok}\n"
    loaded = docs.load_document(text.encode())
    assert loaded["info"]["version"] == "2024-01-02"
    assert loaded["x"] == {"200": "ok"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"[1, 2]", "must be an object"),
        (b"{unclosed: [", "neither valid JSON nor YAML"),
        (b"\xff\xfe", "neither valid JSON nor YAML"),
        (b"key: !!binary aGVsbG8=", "cannot be read as JSON"),
    ],
)
def test_unreadable_bodies_say_why(body: bytes, says: str) -> None:
    with pytest.raises(docs.DocumentError, match=says):
        docs.load_document(body)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(docs.DocumentError, match="more than"):
        docs.load_document("\n".join(lines).encode())


def test_merge_joins_paths_verbs_and_components_by_name() -> None:
    base = openapi(
        {"/a": {"get": MOCK, "post": MOCK}, "/b": {"get": MOCK}},
        components={"securitySchemes": {"s1": {"type": "apiKey"}}},
    )
    update = openapi(
        {"/a": {"post": {"changed": True}}, "/c": {"get": MOCK}},
        components={"securitySchemes": {"s2": {"type": "apiKey"}}},
    )
    update["info"] = {"title": "new", "version": "2"}
    merged = docs.merge_documents(base, update)
    assert merged["paths"]["/a"] == {"get": MOCK, "post": {"changed": True}}
    assert set(merged["paths"]) == {"/a", "/b", "/c"}
    assert set(merged["components"]["securitySchemes"]) == {"s1", "s2"}
    assert merged["info"]["title"] == "new"
    assert base["paths"]["/a"]["post"] == MOCK, "the base is left alone"


def test_merge_refuses_mixing_swagger_and_openapi() -> None:
    swagger = {"swagger": "2.0", "info": {"title": "t"}, "paths": {}}
    with pytest.raises(docs.DocumentError, match="mode=overwrite"):
        docs.merge_documents(openapi({}), swagger)


def test_settings_are_split_off_and_folded_back() -> None:
    policy = {"Version": "2012-10-17", "Statement": []}
    doc = openapi(
        {"/a": {"get": MOCK}},
        **{
            "x-amazon-apigateway-policy": policy,
            "x-amazon-apigateway-api-key-source": "authorizer",
        },
    )
    rest, policy_text, key_source = docs.split_settings(doc)
    assert "x-amazon-apigateway-policy" not in rest
    assert policy_text is not None
    assert json.loads(policy_text) == policy
    assert key_source == "AUTHORIZER"
    folded = docs.with_settings(rest, name="renamed", policy=policy_text, api_key_source="HEADER")
    assert folded["info"]["title"] == "renamed"
    assert folded["x-amazon-apigateway-policy"] == policy
    assert "x-amazon-apigateway-api-key-source" not in folded
    api = parse_definition(folded, api_id="abc", source="t")
    assert api.name == "renamed"
    assert api.policy is not None


def test_base_path_prepended_from_servers_or_swagger() -> None:
    doc = openapi(
        {"/": {"get": MOCK}, "/a": {"get": MOCK}},
        servers=[{"url": "https://h/{basePath}", "variables": {"basePath": {"default": "v1"}}}],
    )
    moved = docs.apply_import_parameters(doc, {"basepath": "prepend"})
    assert set(moved["paths"]) == {"/v1", "/v1/a"}
    swagger = {"swagger": "2.0", "basePath": "/api/", "paths": {"/a": {}}}
    assert set(docs.apply_import_parameters(swagger, {"basepath": "prepend"})["paths"]) == {
        "/api/a"
    }
    assert docs.apply_import_parameters(doc, {"basepath": "ignore"}) == doc


def test_import_parameters_set_the_endpoint_or_fail_loudly() -> None:
    doc = openapi({"/a": {"get": MOCK}})
    private = docs.apply_import_parameters(doc, {"endpointConfigurationTypes": "private"})
    assert private["x-amazon-apigateway-endpoint-configuration"] == {"types": ["PRIVATE"]}
    assert docs.apply_import_parameters(doc, {"ignore": "documentation"}) == doc
    for bad in ({"endpointConfigurationTypes": "MOON"}, {"basepath": "split"}, {"mode2": "x"}):
        with pytest.raises(docs.DocumentError):
            docs.apply_import_parameters(doc, bad)


def test_resources_include_every_prefix_with_parent_ids() -> None:
    api = parse_definition(
        openapi({"/a/{id}/b": {"get": MOCK}, "/c": {"post": MOCK}}), api_id="abc", source="t"
    )
    entries = {e.path: e for e in resource_entries(api)}
    assert list(entries) == ["/", "/a", "/a/{id}", "/a/{id}/b", "/c"]
    assert entries["/"].id == root_resource_id("abc")
    assert entries["/"].parent_id is None
    assert entries["/a/{id}/b"].parent_id == entries["/a/{id}"].id
    assert entries["/a/{id}"].path_part == "{id}"
    assert set(entries["/a/{id}/b"].methods) == {"GET"}
    assert not entries["/a"].methods
