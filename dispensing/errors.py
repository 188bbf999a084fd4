"""Domain errors. A refusal is data: a stable dotted `code` that names the rule (`slot.already_dispensed`)
and the `params` its message needs. The words live in the message catalogues (`dispensing/messages`,
English and Danish); one handler in api/ maps errors to HTTP; the domain never imports FastAPI.

Every message names the rule that refused and what to do instead.
"""

import re
from typing import Any

from dispensing import messages

_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")


class DispensingError(Exception):
    status_code = 400
    code = "request.refused"

    def __init__(
        self, code: str, /, status_code: int | None = None, *, keep_changes: bool = False, **params: Any
    ) -> None:
        # A plain English sentence instead of a code is the old form, still accepted while the
        # raise sites move to codes; it keeps the class's generic code.
        self._sentence: str | None = None
        if _CODE.fullmatch(code):
            self.code = code
        else:
            self._sentence = code
        self.params = params
        # True when what the use case recorded before refusing (e.g. the audit entry of a failed
        # login) must be committed although the request fails.
        self.keep_changes = keep_changes
        if status_code is not None:
            self.status_code = status_code
        super().__init__(self.code if self._sentence is None else self._sentence)

    def text(self, locale: str = "en") -> str:
        """The message in `locale` ("en" or "da"), with its values formatted for that language."""
        if self._sentence is not None:
            return self._sentence
        return messages.text(self.code, self.params, locale)

    @property
    def message(self) -> str:
        return self.text("en")


class NotAuthenticated(DispensingError):
    status_code = 401
    code = "auth.not_authenticated"


class Forbidden(DispensingError):
    status_code = 403
    code = "auth.forbidden"


class NotFound(DispensingError):
    status_code = 404
    code = "record.not_found"


class Conflict(DispensingError):
    status_code = 409
    code = "state.conflict"


class InvalidInput(DispensingError):
    status_code = 422
    code = "input.invalid"


class TooManyAttempts(DispensingError):
    """Throttled: too many failed password attempts (params: retry_after, in seconds)."""

    status_code = 429
    code = "auth.throttled"
