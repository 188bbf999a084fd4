"""Domain errors. One handler in api/ maps them to HTTP; the domain never imports FastAPI.

Every message names the rule that refused and what to do instead.
"""


class DispensingError(Exception):
    status_code = 400

    def __init__(self, message: str, status_code: int | None = None, *, keep_changes: bool = False):
        super().__init__(message)
        self.message = message
        # True when what the use case recorded before refusing (e.g. the audit entry of a failed
        # login) must be committed although the request fails.
        self.keep_changes = keep_changes
        if status_code is not None:
            self.status_code = status_code


class NotAuthenticated(DispensingError):
    status_code = 401


class Forbidden(DispensingError):
    status_code = 403


class NotFound(DispensingError):
    status_code = 404


class Conflict(DispensingError):
    status_code = 409


class InvalidInput(DispensingError):
    status_code = 422
