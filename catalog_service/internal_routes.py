"""Endpoints for the platform's own services (not in the public document; the gateway does not
route /internal): the catalogue's figures for the ticket service's platform overview."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from catalog_service import visits
from services.db import AutocommitDep, DatabaseDep
from services.errors import problem_responses
from services.internal import InternalCaller

router = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@router.get("/figures", responses=problem_responses(401, 422))
async def catalogue_figures(
    request: Request,
    _: InternalCaller,
    database: DatabaseDep,
    db: AutocommitDep,
    start: Annotated[date, Query()],
    end: Annotated[date, Query()],
) -> Any:
    """Visits between two local days (this process's pending ones written first), and what is published."""
    await request.state.visits.flush(database)
    return await visits.catalogue_figures(db, start=start, end=end)
