"""The catalogue service's ASGI application."""

from __future__ import annotations

from fastapi import FastAPI

from catalog_service.routes import router
from catalog_service.settings import CatalogSettings
from services.app import create_service_app

TAGS = [
    {"name": "departments", "description": "The municipal departments that handle requests (部门)."},
    {"name": "categories", "description": "Groups of service items (类别)."},
    {"name": "items", "description": "Service items on the menu (服务项目)."},
    {"name": "policies", "description": "Enterprise policies that items are based on (涉企政策)."},
    {"name": "menus", "description": "Published menu editions (服务菜单)."},
]


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    return create_service_app(
        title="965808 catalogue service",
        description="The service menu: departments, categories, items, policies and menu editions.",
        settings=settings or CatalogSettings(),
        routers=[router],
        tags=TAGS,
    )
