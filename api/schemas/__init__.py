"""Request and response bodies, one module per router. Doses go out as decimal strings ("80", "2.5"), never floats."""

from api.schemas.auth import *  # noqa: F403
from api.schemas.calendar import *  # noqa: F403
from api.schemas.common import *  # noqa: F403
from api.schemas.conduct import *  # noqa: F403
from api.schemas.corrections import *  # noqa: F403
from api.schemas.followup import *  # noqa: F403
from api.schemas.labels import *  # noqa: F403
from api.schemas.patients import *  # noqa: F403
from api.schemas.prescriptions import *  # noqa: F403
from api.schemas.review import *  # noqa: F403
from api.schemas.sites import *  # noqa: F403
from api.schemas.stock import *  # noqa: F403
from api.schemas.urine import *  # noqa: F403
from api.schemas.window import *  # noqa: F403
