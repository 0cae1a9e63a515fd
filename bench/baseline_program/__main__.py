"""The baseline: a trivial Pulumi program registering the resources listed in `spec.json`, one constructor call each.

No components, no args models, no outputs wired between resources: what is left is the cost of the Pulumi runtime
(and, in `azure-native` mode, of the azure-native SDK's classes) under the same offline engine.

- `fake`: every resource is a `pulumi.CustomResource` of a made-up type with a few literal inputs;
- `azure-native`: the same provider types (azure-native, azuread), names and parents as the measured plan, each built
  by its SDK class from the plan's recorded inputs as literals (components become plain `ComponentResource`s of the
  same type).
"""

import importlib
import inspect
import json
import re
from typing import Any

import pulumi

_RESERVED = {"resource_name", "opts"}  # SDK classes take these as `resource_name_`, `opts_`


def _python_name(wire: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", wire).lower()
    return name + "_" if name in _RESERVED else name


def _literal(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$resourceReference"}:
            return str(value["$resourceReference"])
        return {k: _literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal(v) for v in value]
    return "computed" if value == "<computed>" else value


class Fake(pulumi.CustomResource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bench:index:Resource", name, props, opts)


class Component(pulumi.ComponentResource):
    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_, name, None, opts)


with open("spec.json") as handle:
    spec = json.load(handle)

if spec["mode"] == "fake":
    for i in range(len(spec["resources"])):
        Fake(
            f"r{i}",
            {"location": "westeurope", "sku": {"name": "Standard"}, "tags": {"environment": "bench", "index": str(i)}},
        )
else:
    made: dict[str, pulumi.Resource] = {}
    for resource in spec["resources"]:  # parents before children
        opts = pulumi.ResourceOptions(parent=made.get(resource["parent"] or ""))
        if not resource["custom"]:
            made[resource["urn"]] = Component(resource["type"], resource["name"], opts)
            continue
        klass = getattr(importlib.import_module(resource["module"]), resource["type"].split(":")[-1])
        accepted = inspect.signature(klass._internal_init).parameters
        kwargs = {_python_name(k): _literal(v) for k, v in resource["inputs"].items()}
        kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        made[resource["urn"]] = klass(resource["name"], opts=opts, **kwargs)
