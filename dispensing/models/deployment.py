"""What every server process of one deployment must share, as the database has seen it."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dispensing.models.base import Base
from dispensing.types import UTCDateTime


class ServerKey(Base):
    """The fingerprint of a key the servers of this database use (login secret, label key).

    The first server to start records it; a later one with a different key refuses to start, so two
    processes never sign logins or labels the other would reject. Never the key itself.
    """

    __tablename__ = "server_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
