"""The catalogue counts its visits (reads of items, categories, menus, policies) for the overview."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.conftest import Platform
from tests.notification_service.helpers import internal_headers
from tests.ticket_service.helpers import API, assert_problem

# Around today (visits are counted under the local day of the read).
TODAY_PERIOD = {
    "start": (date.today() - timedelta(days=2)).isoformat(),
    "end": (date.today() + timedelta(days=2)).isoformat(),
}


async def figures(platform: Platform) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=platform.upstreams["catalog"])
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as catalog:
        response = await catalog.get("/internal/figures", params=TODAY_PERIOD, headers=internal_headers())
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_reads_of_the_catalogue_and_policies_count_as_visits(platform: Platform) -> None:
    before = await figures(platform)
    for path in ("/items", "/items/LS-001", "/menus/current", "/categories"):
        assert (await platform.client.get(f"{API}{path}")).status_code == 200
    assert (await platform.client.get(f"{API}/policies")).status_code == 200
    assert (await platform.client.get(f"{API}/departments")).status_code == 200  # not a catalogue visit
    after = await figures(platform)
    assert after["catalogue_visits"] - before["catalogue_visits"] == 4
    assert after["policy_visits"] - before["policy_visits"] == 1
    assert after["visits"] - before["visits"] == 5
    assert after["items_published"] > 0 and after["policies_published"] > 0


async def test_the_overview_shows_the_catalogues_figures(platform: Platform) -> None:
    assert (await platform.client.get(f"{API}/policies")).status_code == 200
    catalogue = await figures(platform)
    response = await platform.client.get(
        f"{API}/stats/overview", params=TODAY_PERIOD, headers=await platform.auth("admin")
    )
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["visits"] == catalogue["visits"]
    assert (overview["policies_published"], overview["items_published"]) == (
        catalogue["policies_published"],
        catalogue["items_published"],
    )
    assert overview["units_joined"] == 36


async def test_the_figures_are_for_the_platforms_services_only(platform: Platform) -> None:
    transport = httpx.ASGITransport(app=platform.upstreams["catalog"])
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as catalog:
        response = await catalog.get("/internal/figures", params=TODAY_PERIOD)
    assert_problem(response, 401, "invalid_internal_token")
