"""The digest of an audit entry: HMAC-SHA256 over the previous digest and the entry's fields.

Keyed with AUDIT_CHAIN_KEY so someone who can edit the database but not read the key cannot
recompute the chain after altering a row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any

GENESIS = "0" * 64


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_fields(
    *,
    seq: int,
    at: dt.datetime,
    user_id: uuid.UUID | str | None,
    username: str,
    unit_code: str,
    posts: str,
    address: str,
    action: str,
    object_type: str,
    object_id: str,
    outcome: str,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "user_id": str(user_id) if user_id else None,
        "username": username,
        "unit_code": unit_code,
        "posts": posts,
        "address": address,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "outcome": outcome,
        "detail": detail,
    }


def digest(key: str, prev_digest: str, fields: dict[str, Any]) -> str:
    message = prev_digest.encode() + b"|" + canonical(fields)
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
