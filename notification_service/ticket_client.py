"""The ticket service as the notification service reaches it: a small typed client over the
process's one shared `httpx.AsyncClient` (internal endpoints, the platform's service token)."""

from __future__ import annotations

from typing import Any

import httpx

from notification_service.errors import TicketsUnavailable
from services.errors import ProblemError


class TicketClient:
    def __init__(self, http: httpx.AsyncClient, *, token: str) -> None:
        self._http = http
        self._headers = {"X-Internal-Token": token}

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._http.post(path, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise TicketsUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise TicketsUnavailable(f"status {response.status_code}")
        answer: dict[str, Any] = response.json()
        if response.status_code >= 400:
            # The ticket service's own refusal (a bad credit code, a case already rated) is the
            # hotline's to see, as that service said it.
            raise ProblemError(
                answer.get("detail"),
                status=response.status_code,
                code=answer.get("code", "bad_request"),
                title=answer.get("title"),
                **({"errors": answer["errors"]} if "errors" in answer else {}),
            )
        return answer

    async def file_call(self, call: dict[str, Any]) -> dict[str, Any]:
        """The call's ticket: created the first time, the same one for any repeat of the call."""
        return await self._post("/internal/hotline-calls", call)

    async def rate(self, feedback: dict[str, Any]) -> dict[str, Any]:
        """The caller's rating from the follow-up call."""
        return await self._post("/internal/hotline-feedback", feedback)

    async def enterprise_size(self, enterprise_id: str, *, authorization: str) -> str | None:
        """The caller's own enterprise's size, read with the caller's own token; None when the
        ticket service cannot say (the inbox then shows no announcements, rather than fail)."""
        try:
            response = await self._http.get(
                f"/api/v1/enterprises/{enterprise_id}", headers={"Authorization": authorization}
            )
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        size = response.json().get("size")
        return size if isinstance(size, str) else None
