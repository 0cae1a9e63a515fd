"""Read each resource's properties once per Analyze call instead of once per policy.

pulumi_policy 1.x (`PolicyPack`'s analyzer server) converts a resource's protobuf properties to a dict
(`json_format.MessageToDict` + `deserialize_properties`) inside its loop over policies, so a pack with 40 resource
policies converts every resource 40 times — most of the pack's time per resource (docs/benchmarks.md, policy pack
alone). The rules only read their props (through pulumi_policy's read-only `unknown_checking_proxy`), so the result
of the last conversion can be handed out again while the same protobuf message is being analyzed.

`install()` wraps the two names in the `pulumi_policy.policy` module namespace only (nobody else's use of protobuf
changes); a message is recognised by identity, and the wrapper keeps it alive so its id cannot be reused. The
remembered pair is replaced as one tuple, so concurrent Analyze calls on the server's thread pool never get each
other's properties (at worst they convert again). If a
future pulumi_policy no longer has these names, nothing is wrapped and the pack simply runs at the old speed.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


class _CachingJsonFormat:
    """`google.protobuf.json_format` with MessageToDict remembering its last plain (no-option) call."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real
        self._last: tuple[Any, Any] = (None, None)

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - protobuf's name
        if args or kwargs:
            return self._real.MessageToDict(message, *args, **kwargs)
        last = self._last  # one read: the server may analyze resources on several threads
        if last[0] is message:
            return last[1]
        result = self._real.MessageToDict(message)
        self._last = (message, result)
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
    real_json_format, real_deserialize = getattr(module, "json_format", None), getattr(module,
                                                                                        "deserialize_properties", None)
    if real_json_format is None or real_deserialize is None:
        return False
    holder: list[tuple[Any, bool, Any]] = [(None, False, None)]  # (input dict, proxy_secrets, result), swapped whole

    def deserialize_properties(props: Any, proxy_secrets: bool = False) -> Any:
        last = holder[0]  # one read, so a concurrent call cannot mix its input with another's result
        if last[0] is props and last[1] == proxy_secrets:
            return last[2]
        result = real_deserialize(props, proxy_secrets)
        holder[0] = (props, proxy_secrets, result)
        return result

    module.json_format = _CachingJsonFormat(real_json_format)  # type: ignore[attr-defined]
    module.deserialize_properties = deserialize_properties  # type: ignore[attr-defined]
    module._aiinfra_fastpath = True  # type: ignore[attr-defined]
    return True
