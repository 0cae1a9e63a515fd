"""How Azure RBAC decides whether a role permits an operation: `*` in an action matches any text (slashes too),
case-insensitively; an operation is granted when some action matches and no notAction does."""

from __future__ import annotations

import re
from collections.abc import Iterable


def _matches(pattern: str, operation: str) -> bool:
    regex = "^" + re.escape(pattern).replace(r"\*", ".*") + "$"
    return re.match(regex, operation, re.IGNORECASE) is not None


def grants(actions: Iterable[str], not_actions: Iterable[str], operation: str) -> bool:
    return any(_matches(a, operation) for a in actions) and not any(_matches(n, operation) for n in not_actions)
