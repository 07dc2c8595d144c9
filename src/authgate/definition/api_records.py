"""From a request's document to a stored API, and from a stored API to what GetRestApi shows.

Pure: no I/O. The document is checked exactly as it will later be deployed (settings folded
in), so everything `parse_definition` finds wrong is reported now, each problem with its
JSON-pointer location in the request body.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Final

from authgate.definition import documents as docs
from authgate.definition.checks import check_policy, problems_message
from authgate.definition.model import Protocol, RestApi
from authgate.definition.openapi import parse_definition, pointer
from authgate.definition.records import ApiView, StoredApi
from authgate.errors import ConfigError
from authgate.policy import ApiScope
from authgate.usage.errors import BadRequest

BODY: Final = "body"
"""The source name problems in a request's document carry (left out of messages)."""


def read_body(body: bytes, parameters: Mapping[str, str] | None) -> docs.Document:
    """The request's document with the import `parameters` applied; BadRequest if unreadable."""
    try:
        return docs.apply_import_parameters(docs.load_document(body), parameters or {})
    except docs.DocumentError as exc:
        raise BadRequest(exc.message) from None


def parse_body(document: docs.Document, api_id: str, verb: str) -> RestApi:
    """The document as a RestApi; BadRequest lists every problem (`Errors found during …`)."""
    try:
        return parse_definition(document, api_id=api_id, source=BODY)
    except ConfigError as exc:
        headline = f"Errors found during {verb}:"
        raise BadRequest(problems_message(headline, exc.problems, f"{BODY}:")) from None


def revision(
    document: docs.Document,
    current: StoredApi | None,
    *,
    scope: ApiScope,
    now: float,
) -> tuple[StoredApi, RestApi]:
    """The record a valid document becomes for the API `scope` names: a new one, or the next
    revision of `current`, whose settings stay where the document leaves them out."""
    api_id = scope.api_id
    rest, policy, key_source = docs.split_settings(document)
    name = docs.info_text(rest, "title") or (current.name if current else api_id)
    if policy is None and current is not None:
        policy = current.policy
    key_source = key_source or (current.api_key_source if current else "HEADER")
    full = docs.with_settings(rest, name=name, policy=policy, api_key_source=key_source)
    api = parse_body(full, api_id, "import")
    if api.policy is not None:
        policy = check_policy(api.policy, scope, f"{pointer(docs.POLICY)}/")
    description = docs.info_text(rest, "description")
    if description is None:
        description = current.description if current else ""
    record = StoredApi(
        id=api_id,
        name=name,
        description=description,
        created=current.created if current else now,
        updated=now,
        document=docs.dump_document(rest),
        revision=current.revision + 1 if current else 1,
        policy=policy,
        api_key_source=api.api_key_source,
    )
    return record, api


def snapshot(record: StoredApi) -> docs.Document:
    """The document a deployment of the API as it is now keeps."""
    return docs.with_settings(
        docs.parse_stored(record.document),
        name=record.name,
        policy=record.policy,
        api_key_source=record.api_key_source,
    )


def definition(record: StoredApi) -> RestApi:
    """The API as its record defines it now. A record that no longer parses (rules became
    stricter since it was stored) shows its settings and no resources rather than failing
    every listing."""
    try:
        return parse_definition(snapshot(record), api_id=record.id, source=BODY)
    except (ConfigError, docs.DocumentError, ValueError):
        return RestApi(
            record.id,
            record.name,
            Protocol.REST,
            (),
            policy=record.policy,
            api_key_source=record.api_key_source,
        )


def api_view(record: StoredApi, api: RestApi | None = None) -> ApiView:
    version = None
    with contextlib.suppress(docs.DocumentError, ValueError):
        version = docs.info_text(docs.parse_stored(record.document), "version")
    return ApiView(
        definition=api if api is not None else definition(record),
        description=record.description,
        created=record.created,
        version=version,
    )
