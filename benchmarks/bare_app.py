"""Reference points: a bare FastAPI endpoint returning a constant, the smallest possible
database read (one SQLAlchemy Core select on a pooled connection, no middleware, no auth), and
a bare single-row insert and select on a table of its own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from sqlalchemy import select, text

from catalog_service.models import ServiceItem
from services.db import create_engine


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        engine = create_engine(os.environ["DATABASE_URL"])
        async with engine.begin() as connection:
            # Benchmark scaffolding, not the platform's schema: it lives outside the migrations.
            await connection.execute(
                text("CREATE TABLE IF NOT EXISTS bench_rows (id BIGSERIAL PRIMARY KEY, title TEXT, body TEXT)")
            )
        yield {"engine": engine}
        await engine.dispose()

    # FastAPI's OpenTelemetry hooks are off, as in the platform's apps (OTEL_ENABLED unset).
    app = FastAPI(lifespan=lifespan, telemetry={"tracing": False, "metrics": False, "logs": False})
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

    @app.post("/bare-insert", status_code=201)
    async def bare_insert(request: Request) -> dict[str, int]:
        payload = await request.json()
        async with request.state.engine.begin() as connection:
            row_id = await connection.scalar(
                text("INSERT INTO bench_rows (title, body) VALUES (:t, :b) RETURNING id"),
                {"t": payload["title"], "b": payload["description"]},
            )
        return {"id": int(row_id)}

    @app.get("/bare-select/{row_id}")
    async def bare_select(row_id: int, request: Request) -> dict[str, object]:
        async with request.state.engine.connect() as connection:
            row = (await connection.execute(text("SELECT * FROM bench_rows WHERE id = :i"), {"i": row_id})).mappings()
            return dict(row.one())

    return app
