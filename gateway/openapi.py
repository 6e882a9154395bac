"""One OpenAPI document for the whole platform, merged from the services' own documents."""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from services.errors import PROBLEM_MEDIA_TYPE, ProblemError, ProblemFields, problem_classes, problem_codes
from services.openapi import HTTP_METHODS, operations
from ticket_service.lifecycle import RATABLE_STATUSES, RULES, Action, Status

# Each service's own health; the gateway's document has the platform's.
PRIVATE_PATHS = frozenset({"/health", "/health/live", "/health/ready"})


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = "#/components/schemas/" + renames.get(name, name)
            else:
                out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


PROXY_FAILURES = {
    "502": "The gateway could not reach the service behind this path; nothing reached it.",
    "504": "The service behind this path did not answer in time; the request may or may not have been applied.",
}


def declare_proxy_failures(path_item: dict[str, Any]) -> dict[str, Any]:
    """A proxied operation may also be answered by the gateway itself: 502 or 504."""
    for method, operation in path_item.items():
        if method not in HTTP_METHODS:
            continue
        responses = operation.setdefault("responses", {})
        for status, description in PROXY_FAILURES.items():
            responses.setdefault(
                status,
                {
                    "description": description,
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}},
                },
            )
        operation["responses"] = dict(sorted(responses.items()))
    return path_item


def merge_documents(
    gateway: dict[str, Any], services: Mapping[str, dict[str, Any]], *, missing: list[str]
) -> dict[str, Any]:
    """Union of paths, schemas, tags and security schemes; a clashing schema name gets the
    service's name as prefix, and that service's references follow the rename."""
    merged = type_problem_variants(copy.deepcopy(gateway), SERVICE_PACKAGES["gateway"])
    merged["paths"] = {path: item for path, item in merged.get("paths", {}).items()}
    components = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    security: dict[str, Any] = components.setdefault("securitySchemes", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    known_tags = {tag["name"] for tag in tags}
    for service_name, document in services.items():
        if service_name in SERVICE_PACKAGES:
            document = type_problem_variants(copy.deepcopy(document), SERVICE_PACKAGES[service_name])
        doc_schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
        renames: dict[str, str] = {}
        for name, schema in doc_schemas.items():
            if name in schemas and _canonical(schemas[name]) != _canonical(schema):
                renames[name] = f"{service_name.capitalize()}{name}"
        document = _rename_refs(document, renames)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for name, scheme in document.get("components", {}).get("securitySchemes", {}).items():
            security.setdefault(name, scheme)
        for path, item in document.get("paths", {}).items():
            if path in PRIVATE_PATHS or path.startswith("/internal/"):
                continue
            merged["paths"][path] = declare_proxy_failures(item)
        for tag in document.get("tags", []):
            if tag["name"] not in known_tags:
                tags.append(tag)
                known_tags.add(tag["name"])
    finish_document(merged)
    if missing:
        merged.setdefault("info", {})["x-unavailable-services"] = missing
        merged["info"]["description"] = (
            merged["info"].get("description", "")
            + "\n\n**Incomplete:** these services did not answer: "
            + ", ".join(missing)
            + "."
        )
    return merged


# The public document's finishing: what only the whole platform's document can say.

# Each service's package, whose `errors` module holds the problems that service answers with.
SERVICE_PACKAGES = {
    "gateway": "gateway",
    "catalog": "catalog_service",
    "tickets": "ticket_service",
    "notifications": "notification_service",
}

TITLE = "Enterprise Service Platform 965808"
CONTACT = {"name": "965808 platform team", "email": "api@965808.example.gov.cn"}
LICENSE = {
    "name": "Proprietary: for the 965808 platform's front ends and integrations",
    "identifier": "LicenseRef-965808",
}
SERVERS = [{"url": "/", "description": "This gateway (the origin the document was read from)."}]
SECURITY_SCHEME = "OAuth2PasswordBearer"
OAUTH2_SCHEME = {
    "type": "oauth2",
    "description": (
        "Bearer tokens from `POST /api/v1/auth/token`: people (enterprise, staff, dispatcher, supervisor, "
        "admin, the hotline's agents) use the password grant, integration clients the client-credentials "
        "grant (their id and secret in the form or as HTTP Basic). Tokens carry the caller's role; each "
        "operation's description says which roles may call it."
    ),
    "flows": {
        "password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}},
        "clientCredentials": {"tokenUrl": "/api/v1/auth/token", "scopes": {}},
    },
}


def _problem_classes_of(package: str) -> list[type[ProblemError]]:
    importlib.import_module(f"{package}.errors")
    return [cls for cls in problem_classes() if cls.__module__.startswith(("services.", f"{package}."))]


def _schema_of_fields(fields: type[ProblemFields], base: str, codes: list[str]) -> dict[str, Any]:
    schema = TypeAdapter(fields).json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("title", None)
    schema["properties"]["code"] = {"type": "string", "enum": codes}
    return {
        "title": fields.__name__,
        "description": fields.__doc__ or "",
        "allOf": [{"$ref": f"#/components/schemas/{base}"}, schema],
    }


def _codes_by_fields() -> dict[str, list[str]]:
    """Each extra-fields model's codes, across every service (so its schema reads the same in each)."""
    for package in SERVICE_PACKAGES.values():
        importlib.import_module(f"{package}.errors")
    codes: dict[str, set[str]] = {}
    for cls in problem_classes():
        if cls.fields is not None:
            codes.setdefault(cls.fields.__name__, set()).update(cls.__dict__.get("codes", {}))
    return {name: sorted(found) for name, found in codes.items()}


def problem_variants(package: str) -> dict[str, dict[str, Any]]:
    """The problem schemas with extra fields that `package`'s service answers, by status."""
    codes = _codes_by_fields()
    by_status: dict[str, dict[str, Any]] = {}
    for cls in _problem_classes_of(package):
        if cls.fields is None:
            continue
        base = "ValidationProblem" if cls.status == 422 else "Problem"
        variant = _schema_of_fields(cls.fields, base, codes[cls.fields.__name__])
        by_status.setdefault(str(cls.status), {})[cls.fields.__name__] = variant
    return by_status


def type_problem_variants(document: dict[str, Any], package: str) -> dict[str, Any]:
    """A service's error responses name the problem schemas with extra fields it may answer."""
    variants = problem_variants(package)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for _path, _method, operation in operations(document):
        for status, response in operation.get("responses", {}).items():
            content = response.get("content", {}).get(PROBLEM_MEDIA_TYPE)
            if content is None or status not in variants:
                continue
            base = content["schema"]
            names = sorted(variants[status])
            for name in names:
                schemas[name] = variants[status][name]
            content["schema"] = {"anyOf": [*({"$ref": f"#/components/schemas/{name}"} for name in names), base]}
    return document


def close_problem_codes(document: dict[str, Any]) -> None:
    """`code` is a closed list: every code the platform's problem classes declare, each explained
    (a `ValidationProblem`'s: those of the 422 classes)."""
    for package in SERVICE_PACKAGES.values():
        importlib.import_module(f"{package}.errors")
    codes = problem_codes()
    unprocessable = {code for cls in problem_classes() if cls.status == 422 for code in cls.__dict__.get("codes", {})}
    schemas = document.get("components", {}).get("schemas", {})
    for name, listed in (("Problem", list(codes)), ("ValidationProblem", sorted(unprocessable))):
        if name not in schemas:
            continue
        meanings = "\n".join(f"- `{code}`: {codes[code]}" for code in listed)
        schemas[name]["properties"]["code"] = {
            "type": "string",
            "enum": listed,
            "title": "Code",
            "description": "Stable machine-readable error code; the `type` URI ends with it too. The codes:\n\n"
            + meanings,
            "examples": ["validation_error" if name == "ValidationProblem" else "not_found"],
        }


def _member_collections(document: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Schema name -> (member path, its parameter) for every `<collection>/{param}` whose GET returns it."""
    found: dict[str, tuple[str, str]] = {}
    for path, path_item in document.get("paths", {}).items():
        match = re.fullmatch(r".+/\{(?P<param>[a-z_]+)\}", path)
        get = path_item.get("get")
        if not match or get is None:
            continue
        schema = get.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema")
        if schema and "$ref" in schema:
            found.setdefault(schema["$ref"].rsplit("/", 1)[1], (path, match["param"]))
    return found


def _key_field(schema: dict[str, Any], param: str) -> str | None:
    properties = schema.get("properties", {})
    for candidate in (param, "id" if param.endswith("_id") else "", "code"):
        if candidate and candidate in properties:
            return candidate
    return None


@dataclass(frozen=True)
class LinkSource:
    """Where an answer leads: a member path, its parameter, and the JSON pointer of the object in
    the answer that names the member (`""` for the whole body, `/tickets/0` for an order's first ticket)."""

    member: str
    param: str
    prefix: str
    schema: dict[str, Any]


def _link_sources(schema_name: str, schemas: dict[str, Any], members: dict[str, tuple[str, str]]) -> list[LinkSource]:
    """The members a response of `schema_name` leads to: itself, the first of a list it holds, or
    the member it belongs to, named by that member's own parameter (a rating's `ticket_id`)."""
    schema = schemas.get(schema_name, {})
    if schema_name in members:
        path, param = members[schema_name]
        return [LinkSource(path, param, "", schema)] if _key_field(schema, param) else []
    found = []
    properties = schema.get("properties", {})
    for name, prop in properties.items():
        ref = prop.get("items", {}).get("$ref", "") if prop.get("type") == "array" else ""
        item = ref.rsplit("/", 1)[-1]
        if item in members:
            path, param = members[item]
            if _key_field(schemas.get(item, {}), param):
                found.append(LinkSource(path, param, f"/{name}/0", schemas.get(item, {})))
    # A record without an id of its own belongs to the member it names (a rating, to its ticket);
    # one with its own id merely mentions it (an order, its enterprise).
    for path, param in members.values():
        if "id" not in properties and param in properties and param != "code":
            found.append(LinkSource(path, param, "", schema))
    return found


# A ticket's life cycle decides which of its actions can follow an answer: an action is linked
# only from answers that leave the ticket in a status the action is taken from, so a client (or
# a stateful fuzzer) walking the links follows a ticket's life rather than its 409s.
TICKET_MEMBER = "/api/v1/tickets/{ticket_id}"
TICKET_CREATES = frozenset(
    {("/api/v1/tickets", "post"), ("/api/v1/orders", "post"), ("/api/v1/hooks/hotline/calls", "post")}
)
RATING = (f"{TICKET_MEMBER}/feedback", "post")


def _action(path: str) -> Action | None:
    prefix = f"{TICKET_MEMBER}/"
    if not path.startswith(prefix) or path[len(prefix) :] not in set(Action):
        return None
    return Action(path[len(prefix) :])


def _statuses_after(path: str, method: str) -> frozenset[Status] | None:
    """The statuses a ticket can be in after a successful `method path`; None when any."""
    if (path, method) in TICKET_CREATES:
        return frozenset({Status.SUBMITTED})
    if (path, method) == RATING:
        # `unsatisfied` sends the ticket back (发回重办); the other ratings leave it as it was.
        return frozenset({*RATABLE_STATUSES, Status.SUBMITTED})
    action = _action(path)
    if action is None or method != "post":
        return None
    paused_from = {source for rule in RULES if rule.target is Status.PAUSED for source in rule.sources}
    return frozenset(
        target for rule in RULES if rule.action is action for target in ([rule.target] if rule.target else paused_from)
    )


def _step_possible(statuses: frozenset[Status] | None, path: str, method: str) -> bool:
    if statuses is None:
        return True
    if (path, method) == RATING:
        return bool(statuses & RATABLE_STATUSES)
    action = _action(path)
    return action is None or any(statuses & rule.sources for rule in RULES if rule.action is action)


def _link(target_path: str, target: dict[str, Any], source: LinkSource) -> dict[str, Any] | None:
    """The link to `target` for `source`'s member, or None if the answer does not fill every
    parameter of its path."""
    parameters: dict[str, str] = {}
    for name in re.findall(r"\{([a-z_]+)\}", target_path):
        field = _key_field(source.schema, name) if name == source.param else name
        if field not in source.schema.get("properties", {}):
            return None
        parameters[f"path.{name}"] = f"$response.body#{source.prefix}/{field}"
    if "version" in source.schema.get("properties", {}) and any(
        p.get("name") == "If-Match" for p in target.get("parameters", [])
    ):
        parameters["header.If-Match"] = f"$response.body#{source.prefix}/version"
    return {
        "operationId": target["operationId"],
        "parameters": parameters,
        "description": f"{target.get('summary', target['operationId'])}, for this answer's resource.",
    }


Targets = dict[str, list[tuple[str, str, dict[str, Any]]]]


def _links_of(
    sources: list[LinkSource], targets: Targets, *, statuses: frozenset[Status] | None, from_read: bool
) -> dict[str, Any]:
    links: dict[str, Any] = {}
    for source in sources:
        for target_path, target_method, target in targets.get(source.member, []):
            if from_read and target_method == "get":
                continue  # a read leads to the member's changes; its other reads are linked from those
            if not _step_possible(statuses, target_path, target_method):
                continue
            link = _link(target_path, target, source)
            if link is not None:
                links.setdefault(target["operationId"], link)
    return links


def add_links(document: dict[str, Any]) -> None:
    """From each create and change, and each member's read, to what can be done next with the same
    resource: its read, its changes and (for tickets) the life-cycle actions its status allows, with
    its id and version filled in."""
    schemas = document.get("components", {}).get("schemas", {})
    members = _member_collections(document)
    targets: Targets = {}
    for path, method, operation in operations(document):
        for member, _param in members.values():
            if path == member or path.startswith(member + "/"):
                targets.setdefault(member, []).append((path, method, operation))
    member_paths = {member for member, _param in members.values()}
    for path, method, operation in operations(document):
        from_read = method == "get" and path in member_paths
        if method == "get" and not from_read:
            continue
        statuses = _statuses_after(path, method)
        for status, response in operation.get("responses", {}).items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if not status.startswith("2") or "$ref" not in schema:
                continue
            sources = _link_sources(schema["$ref"].rsplit("/", 1)[1], schemas, members)
            links = _links_of(sources, targets, statuses=statuses, from_read=from_read)
            if links:
                response["links"] = links


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """The merged document as front ends read it: its title, servers, both OAuth2 flows, the
    closed list of problem codes and the links between operations."""
    info = document.setdefault("info", {})
    info.update(title=TITLE, contact=CONTACT, license=LICENSE)
    document["servers"] = SERVERS
    document.setdefault("components", {}).setdefault("securitySchemes", {})[SECURITY_SCHEME] = OAUTH2_SCHEME
    close_problem_codes(document)
    add_links(document)
    return document
