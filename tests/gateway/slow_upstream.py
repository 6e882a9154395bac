"""A stand-in upstream that answers /health at once and everything else too late."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/api/v1/{path:path}", methods=["GET", "POST"])
    async def slow(path: str) -> dict[str, str]:
        await asyncio.sleep(4)
        return {"path": path}

    return app
