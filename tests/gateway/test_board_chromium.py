"""The board in a real headless Chromium (Debian's `chromium`, driven over CDP by Playwright):
it renders with no console error, shows the API's figures, fits a phone's width, and leaves a
screenshot at each width in test-artifacts/board/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from services.settings import PROJECT_ROOT
from tests.gateway.board_page import BoardPage
from tests.gateway.test_board import assert_board_equals_api
from tests.live_platform import LivePlatform
from tests.support import DEMO_PASSWORD
from tests.ticket_service.helpers import ACTION_BODY, E1
from ticket_service.lifecycle import Action

pytestmark = pytest.mark.live

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "board"
WIDTHS = (390, 1280)


def _token(live: LivePlatform, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{live.gateway_url}/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _post(live: LivePlatform, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    response = httpx.post(f"{live.gateway_url}/api/v1{path}", json=body, headers=headers, timeout=10)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def _history(live: LivePlatform) -> None:
    """Requests to three departments, resolved and rated differently, so the ranking has an order."""
    dispatcher = _token(live, "dispatcher")
    enterprise = _token(live, "enterprise-1")
    plan = [("jxw", "satisfied"), ("jxw", "basically_satisfied"), ("swj", "unsatisfied"), ("rsj", None)]
    for department, rating in plan:
        ticket = _post(
            live,
            "/tickets",
            {
                "title": "用电增容审批进度咨询",
                "description": "我司申请的用电增容审批进度如何？",
                "enterprise_id": E1,
                "channel": "visit",
                "department_code": department,
            },
            dispatcher,
        )
        if rating is None:
            continue
        staff = _token(live, f"staff-{department}")
        for action in (Action.ACCEPT, Action.START, Action.RESOLVE):
            _post(live, f"/tickets/{ticket['id']}/{action.value}", ACTION_BODY[action], staff)
        _post(live, f"/tickets/{ticket['id']}/feedback", {"rating": rating, "comment": ""}, enterprise)


def _api(live: LivePlatform) -> dict[str, Any]:
    headers = _token(live, "supervisor")
    answers = {}
    for name in ("scores", "departments", "overview", "trends"):
        response = httpx.get(f"{live.gateway_url}/api/v1/stats/{name}", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        answers[name] = response.json()
    return answers


def _shown(page: Page) -> BoardPage:
    """The figures as the browser rendered them, read from the DOM."""
    shown = BoardPage()
    for cell in page.locator("[data-section=overview] [data-figure]").all():
        shown.overview[cell.get_attribute("data-figure") or ""] = cell.inner_text().strip()
    for row in page.locator("tr[data-department]").all():
        code = row.get_attribute("data-department") or ""
        shown.order.append(code)
        shown.rows[code] = {
            cell.get_attribute("data-figure") or "": cell.inner_text().strip()
            for cell in row.locator("[data-figure]").all()
        }
    for name in ("period", "scheme-version"):
        shown.other[name] = page.locator(f"[data-figure={name}]").inner_text().strip()
    return shown


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Root in a container has no user namespace for Chromium's sandbox.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--lang=zh-CN"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_board_renders_the_apis_figures_in_chromium(live: LivePlatform, browser: Browser, width: int) -> None:
    if width == WIDTHS[0]:
        _history(live)
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="zh-CN")
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        response = page.goto(f"{live.gateway_url}/board", wait_until="load")
        assert response is not None and response.status == 200
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"board-{width}.png"), full_page=True)
        assert problems == []
        shown = _shown(page)
        assert_board_equals_api(shown, _api(live))
        assert {"jxw", "swj", "rsj"} <= set(shown.order)
        # Nothing is wider than the window: the page reads without scrolling sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.locator("figure svg").count() == 3
        for chart in page.locator("figure svg").all():
            box = chart.bounding_box()
            assert box is not None and 0 < box["width"] <= width
    finally:
        page.close()
