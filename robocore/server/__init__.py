"""The Robocore server: REST API (FastAPI) with token roles, run dispatch and /metrics."""

from robocore.server.app import create_app

__all__ = ["create_app"]
