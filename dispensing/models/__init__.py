"""Database tables, one module per aggregate; importing this package registers them all."""

from dispensing.models.conduct import *  # noqa: F403
from dispensing.models.core import *  # noqa: F403
from dispensing.models.core import Base  # noqa: F401
from dispensing.models.stock import *  # noqa: F403
from dispensing.models.urine import *  # noqa: F403
