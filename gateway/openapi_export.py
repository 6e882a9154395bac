"""Write the platform's merged OpenAPI document to a file without starting anything: each
service's document from its app, merged as the gateway merges what they serve. CI lints it
(`python -m gateway.openapi_export var/openapi.json`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from catalog_service.app import create_app as create_catalog_app
from gateway.app import create_app as create_gateway_app
from gateway.app import own_document
from gateway.openapi import merge_documents
from notification_service.app import create_app as create_notification_app
from ticket_service.app import create_app as create_ticket_app


def platform_document() -> dict[str, Any]:
    services = {
        "catalog": create_catalog_app().openapi(),
        "tickets": create_ticket_app().openapi(),
        "notifications": create_notification_app().openapi(),
    }
    return merge_documents(own_document(create_gateway_app()), services, missing=[])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.openapi_export", description=__doc__)
    parser.add_argument("path", type=Path, help="where to write the document (JSON)")
    path: Path = parser.parse_args(argv).path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(platform_document(), ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
