"""Reference points: a bare FastAPI endpoint returning a constant, and the smallest possible
database read (one SQLAlchemy Core select on a pooled connection, no middleware, no auth)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from sqlalchemy import select

from catalog_service.models import ServiceItem
from services.db import create_engine


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        engine = create_engine(os.environ["DATABASE_URL"])
        yield {"engine": engine}
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    table = ServiceItem.__table__

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/constant")
    async def constant() -> dict[str, str]:
        return {"code": "LS-001", "title": "绿色节能技术改造补贴"}

    @app.get("/core-item/{code}")
    async def core_item(code: str, request: Request) -> Response:
        async with request.state.engine.connect() as connection:
            row = (await connection.execute(select(table).where(table.c.code == code))).mappings().one()
        return Response(content=repr(dict(row)).encode(), media_type="text/plain")

    return app
