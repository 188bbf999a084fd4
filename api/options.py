"""OPTIONS and 405 answers that name every method of a path (Starlette names only the first route's).

/patients/{id} has GET and PATCH in two routes: OPTIONS answers 204 with `Allow: GET, HEAD, OPTIONS,
PATCH`, and a DELETE is a 405 with the same Allow header and the API's error body.
"""

from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.routing import Match

from api.asgi import HttpMiddleware
from api.errors import body

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(scope) -> set[str]:
    """Every method some route of the app serves at this path (empty when no route has the path)."""
    routes = scope["app"].router.routes
    methods = {
        method
        for method in _METHODS
        if any(route.matches(dict(scope, method=method))[0] == Match.FULL for route in routes)
    }
    return methods | {"OPTIONS"} if methods else methods


class AllowedMethods(HttpMiddleware):
    async def http(self, scope, receive, send) -> None:
        if scope["method"] == "OPTIONS":
            methods = allowed_methods(scope)
            if not methods:
                response = JSONResponse(body("record.not_found", Request(scope)), status_code=404)
            else:
                response = Response(status_code=204, headers={"Allow": ", ".join(sorted(methods))})
            await response(scope, receive, send)
            return

        async def send_with_allow(message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                MutableHeaders(scope=message)["Allow"] = ", ".join(sorted(allowed_methods(scope)))
            await send(message)

        await self.app(scope, receive, send_with_allow)
