from tests.web._ui import ui  # noqa: F401
