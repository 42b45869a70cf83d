"""The HTTP side of the app: a FastAPI app over :class:`~steering.app.session.Session`.

Every tab creates a session (``POST /api/session``) and sends its id in the path; sessions
live server-side in an LRU of at most ``max_sessions``. Every body is a pydantic model with
bounds; a bad one, or a value the session rejects, gets a 422 whose ``detail`` is a list of
``{"loc": [...], "msg": ...}`` naming the field (pydantic's shape). Bodies above
:data:`~steering.app.schemas.MAX_BODY_BYTES` get a 413 before they are read in full.

Endpoints (all JSON):

- ``GET /api/agents``: the agents offered, with their layers; ``GET /api/patch_types``.
- ``POST /api/session`` -> ``{"session": id, "view": ...}``.
- ``GET|PUT /api/session/{sid}/state``: read or replace the state (``PUT`` returns the view).
- ``POST /api/session/{sid}/retarget | vector``: add a patch (returns the view).
- ``POST /api/session/{sid}/rollout | rollouts | activations``.
- ``GET /api/session/{sid}/patches``: the patch list as ``steering.patches_to_json`` writes it.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from .schemas import (
    MAX_BODY_BYTES,
    ActivationsRequest,
    RetargetRequest,
    RolloutRequest,
    RolloutsRequest,
    State,
    VectorRequest,
)
from .session import AgentStore, InputError, Session, patch_types

__all__ = ["create_app"]


def _static_dir() -> str:
    return str(resources.files("steering.app") / "static")


class _BodyLimit:
    """ASGI middleware: 413 for bodies above ``limit`` bytes (declared or streamed)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        msg = f"request body over the limit of {self.limit} bytes"
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await JSONResponse({"detail": [{"loc": ["body"], "msg": msg}]}, 413)(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            m = await receive()
            if m["type"] == "http.request":
                seen += len(m.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, [{"loc": ["body"], "msg": msg}])
            return m

        return await self.app(scope, limited, send)


class Sessions:
    """Session id -> :class:`Session`, least recently used dropped beyond ``max_sessions``."""

    def __init__(self, store: AgentStore, max_sessions: int = 32) -> None:
        self.store, self.max = store, max_sessions
        self._d: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def new(self) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(12)
        s = Session(self.store)
        with self._lock:
            self._d[sid] = s
            while len(self._d) > self.max:
                self._d.popitem(last=False)
        return sid, s

    def get(self, sid: str) -> Session:
        with self._lock:
            s = self._d.get(sid)
            if s is None:
                raise HTTPException(
                    404, [{"loc": ["path", "sid"], "msg": "unknown or expired session; create one with POST /api/session"}]
                )
            self._d.move_to_end(sid)
            return s

    def __len__(self) -> int:
        return len(self._d)


def _err(e: InputError, status: int = 422) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": ["body", *e.field.split(".")], "msg": e.message}]}, status)


def create_app(store: AgentStore | None = None, *, max_sessions: int = 32) -> FastAPI:
    """The app. ``store`` defaults to the zoo agents only."""
    store = store or AgentStore()
    sessions = Sessions(store, max_sessions)
    app = FastAPI(title="cheese-maze activation patching", docs_url=None, redoc_url=None)
    app.state.sessions = sessions
    app.state.store = store

    @app.exception_handler(InputError)
    async def _input_error(request: Request, e: InputError):
        return _err(e)

    @app.exception_handler(ValueError)
    async def _value_error(request: Request, e: ValueError):
        # a bad value met deeper down (a patch that does not fit a computation): still a 4xx
        return JSONResponse({"detail": [{"loc": ["body"], "msg": str(e)}]}, 422)

    @app.exception_handler(ValidationError)
    async def _validation_error(request: Request, e: ValidationError):
        return JSONResponse({"detail": [{"loc": ["body", *map(str, x["loc"])], "msg": x["msg"]} for x in e.errors()]}, 422)

    @app.exception_handler(RequestValidationError)
    async def _request_error(request: Request, e: RequestValidationError):
        return JSONResponse(
            {"detail": [{"loc": [str(v) for v in x["loc"]], "msg": x["msg"]} for x in e.errors()]}, 422
        )

    @app.get("/")
    def index():
        return FileResponse(f"{_static_dir()}/index.html")

    app.mount("/static", StaticFiles(directory=_static_dir()), name="static")

    @app.get("/api/agents")
    def list_agents() -> dict:
        return {"default": store.default(), "agents": store.names()}

    @app.get("/api/agents/{name}")
    def agent_info(name: str) -> dict:
        store.check(name, "name")
        return store.info(name)

    @app.get("/api/patch_types")
    def list_patch_types() -> list[dict]:
        return patch_types()

    @app.post("/api/session")
    def new_session() -> dict:
        sid, s = sessions.new()
        with s.lock:
            return {"session": sid, "view": s.view()}

    @app.get("/api/session/{sid}/state")
    def get_state(sid: str) -> dict:
        return sessions.get(sid).state.model_dump()

    @app.put("/api/session/{sid}/state")
    def put_state(sid: str, body: State) -> dict:
        s = sessions.get(sid)
        with s.lock:
            s.set_state(body)
            return s.view()

    @app.post("/api/session/{sid}/retarget")
    def retarget(sid: str, body: RetargetRequest) -> dict:
        s = sessions.get(sid)
        with s.lock:
            s.retarget(body)
            return s.view()

    @app.post("/api/session/{sid}/vector")
    def vector(sid: str, body: VectorRequest) -> dict:
        s = sessions.get(sid)
        with s.lock:
            s.add_vector(body)
            return s.view()

    @app.post("/api/session/{sid}/rollout")
    def rollout(sid: str, body: RolloutRequest) -> dict:
        s = sessions.get(sid)
        with s.lock:
            return s.rollout(body)

    @app.post("/api/session/{sid}/rollouts")
    def rollouts(sid: str, body: RolloutsRequest) -> dict:
        s = sessions.get(sid)
        with s.lock:
            return s.rollouts(body)

    @app.post("/api/session/{sid}/activations")
    def activations(sid: str, body: ActivationsRequest) -> dict:
        s = sessions.get(sid)
        with s.lock:
            return s.activations(body)

    @app.get("/api/session/{sid}/patches")
    def export_patches(sid: str) -> Any:
        import steering

        return steering.patches_to_json(sessions.get(sid).patches)

    app.add_middleware(_BodyLimit, limit=MAX_BODY_BYTES)
    return app
