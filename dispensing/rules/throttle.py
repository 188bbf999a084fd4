"""How many wrong passwords are allowed before the next attempt must wait (no database, no clock)."""

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
# Per user name: a nurse who mistypes a few times is not stopped; a guesser gets 10 tries per 15 minutes.
USER_LIMIT = 10
# Per client address: a shared ward PC sees several users' typos; a guesser spraying names is stopped.
ADDRESS_LIMIT = 30


def retry_after(
    recent_failures: Sequence[datetime], now: datetime, limit: int, window: timedelta = WINDOW
) -> int | None:
    """Seconds to wait before another attempt, or None when one may be made now.

    `recent_failures` are the failures newest first (at least the newest `limit`, if there are so many).
    Once `limit` failures fall within `window`, the next attempt waits until the oldest of them leaves it.
    """
    if len(recent_failures) < limit:
        return None
    wait = (recent_failures[limit - 1] + window - now).total_seconds()
    return max(1, math.ceil(wait)) if wait > 0 else None
