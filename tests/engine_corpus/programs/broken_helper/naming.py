"""A helper with a bug: a name longer than 24 characters is sliced from a dict that has no such key."""

LIMITS = {"storage": 24}


def storage_name(prefix: str, kind: str) -> str:
    return (prefix + "data")[: LIMITS[kind]]
