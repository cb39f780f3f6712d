"""Dependencies the routes declare to reach the application's state: one way to each.

``settings: SettingsDep`` in a route's signature (HTTP or WebSocket) gives the app's
``Settings``; ``limits: LimitsDep`` its rate limiters. Both live on ``app.state``, set once by
``create_app``: nothing is a module global, so two apps in one process share nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from api.routes.limits import Limits
from core.settings import Settings


def app_settings(connection: HTTPConnection) -> Settings:
    """The settings the app was created with."""
    settings: Settings = connection.app.state.settings
    return settings


def app_limits(connection: HTTPConnection) -> Limits:
    """The app's per-client limiters."""
    limits: Limits = connection.app.state.limits
    return limits


SettingsDep = Annotated[Settings, Depends(app_settings)]
LimitsDep = Annotated[Limits, Depends(app_limits)]
