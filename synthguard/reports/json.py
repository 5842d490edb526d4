"""JSON evidence file: sorted keys, the schema version, aggregates only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps_json"]


def dumps_json(result: Mapping[str, Any]) -> str:
    """Serialise ``AuditResult.to_dict()`` deterministically (sorted keys, no NaN)."""
    return json.dumps(result, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
