"""Read each resource's properties once per Analyze call instead of once per policy.

pulumi_policy 1.x (`PolicyPack`'s analyzer server) converts a resource's protobuf properties to a dict
(`json_format.MessageToDict` + `deserialize_properties`) inside its loop over policies, so a pack with 40 resource
policies converts every resource 40 times — most of the pack's time per resource (docs/benchmarks.md, policy pack
alone). The rules only read their props (through pulumi_policy's read-only `unknown_checking_proxy`), so the result
of the last few conversions (the resource's properties and its provider's) can be handed out again while the same
protobuf messages are being analyzed.

`install()` wraps the two names in the `pulumi_policy.policy` module namespace only (nobody else's use of protobuf
changes); a message is recognised by identity, and the wrapper keeps it alive so its id cannot be reused. The
remembered pair is replaced as one tuple, so concurrent Analyze calls on the server's thread pool never get each
other's properties (at worst they convert again). If a
future pulumi_policy no longer has these names, nothing is wrapped and the pack simply runs at the old speed.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

_REMEMBERED = 4  # a resource's properties and its provider's, with room for a concurrent call


class _CachingJsonFormat:
    """`google.protobuf.json_format` with MessageToDict remembering its last few plain (no-option) calls."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real
        self._last: tuple[tuple[Any, Any], ...] = ()

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - protobuf's name
        if args or kwargs:
            return self._real.MessageToDict(message, *args, **kwargs)
        remembered = self._last  # one read: the server may analyze resources on several threads
        for seen, result in remembered:
            if seen is message:
                return result
        result = self._real.MessageToDict(message)
        self._last = ((message, result), *remembered[: _REMEMBERED - 1])
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def install() -> bool:
    """Wrap pulumi_policy's per-policy property conversion; True if it was (or already is) wrapped."""
    try:
        from pulumi_policy import policy as module
    except ImportError:
        return False
    if getattr(module, "_aiinfra_fastpath", False):
        return True
    real_json_format, real_deserialize = (
        getattr(module, "json_format", None),
        getattr(module, "deserialize_properties", None),
    )
    if real_json_format is None or real_deserialize is None:
        return False
    holder: list[tuple[tuple[Any, bool, Any], ...]] = [()]  # (input dict, proxy_secrets, result), newest first

    def deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
        remembered = holder[0]  # one read, so a concurrent call cannot mix its input with another's result
        for seen, secrets, result in remembered:
            if seen is props and secrets == proxy_secrets:
                return result
        result = real_deserialize(props, proxy_secrets)
        holder[0] = ((props, proxy_secrets, result), *remembered[: _REMEMBERED - 1])
        return result

    module.json_format = _CachingJsonFormat(real_json_format)  # type: ignore[attr-defined]
    module.deserialize_properties = deserialize_properties  # type: ignore[attr-defined]
    module._aiinfra_fastpath = True  # type: ignore[attr-defined]
    return True
