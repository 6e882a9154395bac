from __future__ import annotations

from services.errors import NotAuthenticated


class InvalidCredentials(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Unknown user or wrong password.", code="invalid_credentials")


class InvalidClient(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Unknown client or wrong secret.", code="invalid_client")
