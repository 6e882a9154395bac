"""Swagger UI (`/docs`) and ReDoc (`/redoc`) with no internet: their code, stylesheet and icon
come from the `fastapi-offline` package's files and are served by the process itself, so the
pages work on an intranet with no way out (the usual case for a government platform)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

ASSETS_PATH = "/docs/assets"
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
SWAGGER_UI_PARAMETERS: dict[str, Any] = {"persistAuthorization": True, "displayRequestDuration": True}


def _asset_directory() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def docs_router(*, title: str, openapi_url: str = "/openapi.json") -> APIRouter:
    """The two documentation pages of the document at `openapi_url`, and their assets (anyone)."""
    router = APIRouter()
    directory = _asset_directory()

    @router.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    @router.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )

    @router.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise HTTPException(status_code=404)
        return FileResponse(directory / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

    return router
