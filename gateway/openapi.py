"""One OpenAPI document for the whole platform, merged from the services' own documents."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

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


def merge_documents(
    gateway: dict[str, Any], services: Mapping[str, dict[str, Any]], *, missing: list[str]
) -> dict[str, Any]:
    """Union of paths, schemas, tags and security schemes; a clashing schema name gets the
    service's name as prefix, and that service's references follow the rename."""
    merged = copy.deepcopy(gateway)
    merged["paths"] = {path: item for path, item in merged.get("paths", {}).items()}
    components = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    security: dict[str, Any] = components.setdefault("securitySchemes", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    known_tags = {tag["name"] for tag in tags}
    for service_name, document in services.items():
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
            merged["paths"][path] = item
        for tag in document.get("tags", []):
            if tag["name"] not in known_tags:
                tags.append(tag)
                known_tags.add(tag["name"])
    if missing:
        merged.setdefault("info", {})["x-unavailable-services"] = missing
        merged["info"]["description"] = (
            merged["info"].get("description", "")
            + "\n\n**Incomplete:** these services did not answer: "
            + ", ".join(missing)
            + "."
        )
    return merged
