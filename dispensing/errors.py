"""Domain errors. A refusal is data: a stable dotted `code` that names the rule (`slot.already_dispensed`)
and the `params` its message needs. The words live in the message catalogues (`dispensing/messages`,
English and Danish); one handler in api/ maps errors to HTTP; the domain never imports FastAPI.

Every message names the rule that refused and what to do instead.
"""

from typing import Any

from dispensing import messages


class DispensingError(Exception):
    status_code = 400
    code = "request.refused"

    def __init__(
        self, code: str, /, status_code: int | None = None, *, keep_changes: bool = False, **params: Any
    ) -> None:
        # Always a code (tests/test_messages.py walks the source for it); a code without a text
        # in the catalogues is shown as itself rather than as nothing.
        self.code = code
        self.params = params
        # True when what the use case recorded before refusing (e.g. the audit entry of a failed
        # login) must be committed although the request fails.
        self.keep_changes = keep_changes
        if status_code is not None:
            self.status_code = status_code
        # str(error) is the English sentence (logs, tracebacks); clients and tests read `code`.
        super().__init__(messages.text(self.code, params, "en"))

    def text(self, locale: str = "en") -> str:
        """The message in `locale` ("en" or "da"), with its values formatted for that language."""
        return messages.text(self.code, self.params, locale)

    @classmethod
    def of(cls, outcome: "messages.Message | messages.RuleViolation", status_code: int | None = None):
        """The refusal for a rule's outcome (a Message or a RuleViolation), with its code and values."""
        return cls(outcome.code, status_code, **outcome.params)

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
