"""Who is acting: the facts that audit entries and outbox events record about the actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    username: str
    unit_code: str
    posts: tuple[str, ...]
    address: str | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The platform itself: seeding, consumers, schedules."""
        return cls(user_id=None, username=name, unit_code="", posts=(), address=None)

    @property
    def posts_label(self) -> str:
        return ",".join(self.posts)
