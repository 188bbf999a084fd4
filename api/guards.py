"""Cheap checks of the URL before any route runs: ids that cannot exist and NUL bytes.

A path id beyond 64 bits can never name a record: 404, as for any other missing id (the database
drivers cannot even bind it). A NUL byte (%00) or such a number in the query string is a 422. Request
bodies get the same bounds from api.schemas.common.Strict.
"""

from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.requests import Request

from api.asgi import HttpMiddleware
from api.errors import body
from api.schemas.common import MAX_ID


def _too_big(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    return digits.isdigit() and len(digits) >= 19 and int(digits) > MAX_ID


class UrlGuard(HttpMiddleware):
    async def http(self, scope, receive, send) -> None:
        response = self._refusal(scope)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _refusal(scope) -> JSONResponse | None:
        path: str = scope["path"]
        query: bytes = scope.get("query_string", b"")
        if "\x00" in path:
            return JSONResponse(body("request.invalid", Request(scope), fields="path", errors=[]), status_code=422)
        if any(_too_big(part) for part in path.split("/")):
            return JSONResponse(body("record.not_found", Request(scope)), status_code=404)
        if not query:
            return None
        if b"%00" in query.lower() or b"\x00" in query:
            return JSONResponse(body("request.invalid", Request(scope), fields="query", errors=[]), status_code=422)
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if _too_big(value.strip()):
                errors = [{"loc": ["query", name], "msg": "number out of range", "type": "less_than_equal"}]
                return JSONResponse(
                    body("request.invalid", Request(scope), fields=name, errors=errors), status_code=422
                )
        return None
