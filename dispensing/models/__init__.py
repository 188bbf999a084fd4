"""Database tables, one module per aggregate; importing this package registers them all."""

from dispensing.models.alert import *  # noqa: F403
from dispensing.models.audit import *  # noqa: F403
from dispensing.models.base import *  # noqa: F403
from dispensing.models.base import Base  # noqa: F401
from dispensing.models.calendar import *  # noqa: F403
from dispensing.models.conduct import *  # noqa: F403
from dispensing.models.corrections import *  # noqa: F403
from dispensing.models.deployment import *  # noqa: F403
from dispensing.models.patient import *  # noqa: F403
from dispensing.models.policy import *  # noqa: F403
from dispensing.models.prescription import *  # noqa: F403
from dispensing.models.site import *  # noqa: F403
from dispensing.models.slot import *  # noqa: F403
from dispensing.models.stock import *  # noqa: F403
from dispensing.models.throttle import *  # noqa: F403
from dispensing.models.urine import *  # noqa: F403
from dispensing.models.user import *  # noqa: F403
