"""Who is acting: the facts that audit entries and outbox events record about the actor."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


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


def post_kinds_of(user: Any) -> tuple[str, ...]:
    """The kinds of post a user holds, read once per request and kept on the user object."""
    kinds = getattr(user, "_jianguan_post_kinds", None)
    if kinds is None:
        kinds = tuple(sorted(user.posts.values_list("kind", flat=True)))
        user._jianguan_post_kinds = kinds
    return kinds


def actor_of(user: Any, *, address: str | None = None) -> Actor:
    """The Actor for a logged-in user (anything with id, username, unit and posts)."""
    unit = user.unit
    return Actor(
        user_id=user.id,
        username=user.username,
        unit_code=unit.code if unit else "",
        posts=post_kinds_of(user),
        address=address,
    )
