"""The notification service's ASGI application."""

from __future__ import annotations

from fastapi import FastAPI

from notification_service.routes import routers
from notification_service.settings import NotificationSettings
from services.app import create_service_app

TAGS = [
    {"name": "webhooks", "description": "Signed outbound webhooks (Standard Webhooks) and their delivery log."},
    {"name": "inbox", "description": "Each person's notifications."},
]


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    return create_service_app(
        title="965808 notification service",
        description="Inbound hotline webhooks, outbound signed webhooks and the user inbox.",
        settings=settings or NotificationSettings(),
        routers=routers,
        tags=TAGS,
    )
