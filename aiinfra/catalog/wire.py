"""Reading azure-native wire properties (camelCase names, JSON values) the same way in the pack, the cost estimate
and the diagram: absent keys, wrong shapes and enum casing are harmless; nothing here hides an unknown value.

In the policy pack the properties are pulumi_policy's read-only proxy, where reading a value that is unknown during
preview raises `UnknownValueError` (pulumi_policy turns it into its standard "can't run policy during preview"
advisory); in the offline engine an unknown value is the text `<computed>`, which these readers treat as no number,
no enum value and no duration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


def get(value: Any, *path: str | int) -> Any:
    """Follow `path` through mappings and sequences; None as soon as a step is absent or of the wrong shape."""
    for step in path:
        if isinstance(step, int):
            if isinstance(value, Sequence) and not isinstance(value, str) and 0 <= step < len(value):
                value = value[step]
            else:
                return None
        elif isinstance(value, Mapping):
            value = value.get(step)
        else:
            return None
        if value is None:
            return None
    return value


def items(value: Any) -> list[Any]:
    """A sequence property as a list (absent or wrongly shaped -> empty)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [value[i] for i in range(len(value))]
    return []


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def same(value: Any, expected: str) -> bool:
    """Case-insensitive enum comparison, the way Azure compares enum strings."""
    return isinstance(value, str) and value.strip().lower() == expected.lower()


def is_true(value: Any) -> bool:
    return value is True or same(value, "true")


def number(value: Any) -> float | None:
    """Numbers arrive as floats (protobuf Struct); strings of digits are accepted too."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


_ISO_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
_SHORT_DURATION = re.compile(r"^(?P<value>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])$", re.IGNORECASE)


def duration_minutes(value: Any) -> float | None:
    """Minutes in an ISO 8601 duration (`PT15M`, `PT120S`) or a short one (`10m`, `90s`); None if unparseable."""
    if not isinstance(value, str) or not value.strip():
        return None
    raw = value.strip()
    short = _SHORT_DURATION.match(raw)
    if short:
        factor = {"s": 1 / 60, "m": 1.0, "h": 60.0, "d": 1440.0}[short.group("unit").lower()]
        return float(short.group("value")) * factor
    iso = _ISO_DURATION.match(raw)
    if not iso or raw.upper() in ("P", "PT"):
        return None
    parts = {k: float(v) if v else 0.0 for k, v in iso.groupdict().items()}
    return parts["days"] * 1440 + parts["hours"] * 60 + parts["minutes"] + parts["seconds"] / 60


def arm_id_parts(resource_id: Any) -> tuple[str, str, str] | None:
    """`/subscriptions/../resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa[/...]`
    -> ('rg', 'microsoft.storage/storageaccounts', 'sa'), lower-cased (ARM ids are case-insensitive)."""
    if not isinstance(resource_id, str):
        return None
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered or "resourcegroups" not in lowered:
        return None
    group = parts[lowered.index("resourcegroups") + 1] if lowered.index("resourcegroups") + 1 < len(parts) else ""
    at = lowered.index("providers")
    if at + 3 >= len(parts):
        return None
    return group.lower(), f"{lowered[at + 1]}/{lowered[at + 2]}", parts[at + 3].lower()
