"""The shape of the app's own ASGI middlewares (security headers, OPTIONS, URL guard, the catch-all):
they act on HTTP requests; lifespan and other messages pass through untouched.

Plain ASGI rather than Starlette's BaseHTTPMiddleware, which runs the app in another task and
buffers the response."""

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request: answer it, or pass it on to `self.app`."""
        raise NotImplementedError
