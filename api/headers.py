"""Security headers on every response (the web UI, /docs and the JSON API).

The UI's pages load only their own scripts and styles (no inline script), so the policy allows
'self' only. Swagger UI (/docs, /redoc) is FastAPI's page: it loads its bundle from a CDN and starts
with one inline script, so those two pages get a policy that allows exactly that and nothing else.
"""

from starlette.datastructures import MutableHeaders

from api.asgi import HttpMiddleware

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_DOCS = ("/docs", "/redoc", "/docs/oauth2-redirect")


class SecurityHeaders(HttpMiddleware):
    async def http(self, scope, receive, send) -> None:
        csp = DOCS_CSP if scope["path"] in _DOCS else CSP

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
            await send(message)

        await self.app(scope, receive, with_headers)
