"""Reading a recorded plan for pricing: wire values, names, regions, parents (used by the diagram too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..plan import COMPUTED_MARKER, STACK_TYPE, Registration


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def text_of(value: Any) -> str | None:
    """A known, non-empty string input; None for absent, empty or preview-time unknown values."""
    return value if isinstance(value, str) and value and value != COMPUTED_MARKER else None


def dig(data: Any, *keys: str) -> Any:
    """`dig(inputs, "sku", "tier")`: a nested input, or None when any level is missing."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def azure_name(r: Registration) -> str:
    """The name the program gave the resource in Azure, else its logical name.

    That is its own `<resource>Name` input, or `name`, or a `<suffix>Name` whose suffix ends the type's name
    (`environmentName` of a ManagedEnvironment, `accountName` of a BatchAccount); an AKS cluster's is `resourceName`.
    Other `...Name` inputs name a parent (a Batch pool's `accountName`).
    """
    kind = r.type.split(":")[-1]
    keys = [kind[:1].lower() + kind[1:] + "Name", "name"]
    keys += sorted(k for k in r.inputs if k.endswith("Name") and k != "Name" and kind.lower().endswith(k[:-4].lower()))
    keys += ["resourceName"] if kind == "ManagedCluster" else []
    return next((v for v in (text_of(r.inputs.get(k)) for k in keys) if v), text_of(r.outputs.get("name")) or r.name)


def _region(value: str) -> str:
    return value.replace(" ", "").lower()


# Children that take their region from the parent resource they name.
_PARENT_BY_NAME = {
    "azure-native:machinelearningservices:Compute": ("workspaceName", "azure-native:machinelearningservices:Workspace"),
    "azure-native:machinelearningservices:ManagedNetworkSettingsRule": (
        "workspaceName",
        "azure-native:machinelearningservices:Workspace",
    ),
    "azure-native:batch:Pool": ("accountName", "azure-native:batch:BatchAccount"),
    "azure-native:containerservice:AgentPool": ("resourceName", "azure-native:containerservice:ManagedCluster"),
    "azure-native:sql:Database": ("serverName", "azure-native:sql:Server"),
}
_PARENT_ID_KEYS = ("managedEnvironmentId", "environmentId")


class PlanIndex:
    """Lookups over one plan: Azure resources by id and by (type, name), regions, top-level components."""

    def __init__(
        self, resources: Sequence[Registration], default_providers: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        self.resources = list(resources)
        self.default_location = text_of(dict(default_providers or {}).get("azure-native", {}).get("location"))
        self.by_urn = {r.urn: r for r in self.resources}
        self.by_id = {r.id.lower(): r for r in self.resources if r.custom and r.id}
        self.by_name: dict[tuple[str, str, str], Registration] = {}
        for r in self.resources:
            name = azure_name(r)
            group = text_of(r.inputs.get("resourceGroupName")) or ""
            self.by_name.setdefault((r.type, name.lower(), group.lower()), r)
            self.by_name.setdefault((r.type, name.lower(), ""), r)

    def named(self, type_token: str, name: str | None, group: str | None = None) -> Registration | None:
        if not name:
            return None
        return self.by_name.get((type_token, name.lower(), (group or "").lower())) or self.by_name.get(
            (type_token, name.lower(), "")
        )

    def referenced(self, value: Any) -> Registration | None:
        text = text_of(value)
        return self.by_id.get(text.lower()) if text else None

    def _linked(self, r: Registration, key: str, type_token: str, group: str | None = None) -> Registration | None:
        """The resource of `type_token` that input `key` names: by its Azure name, or, when the name is unknown
        (preview semantics: `rg.name` of a new group), the one the program passed it from (propertyDependencies)."""
        value = r.inputs.get(key)
        if value != COMPUTED_MARKER:
            return self.named(type_token, text_of(value), group)
        found = (self.by_urn.get(urn) for urn in r.property_dependencies.get(key, []))
        return next((d for d in found if d is not None and d.type == type_token), None)

    def provider_location(self, r: Registration) -> str | None:
        """The `location` of the azure-native provider the resource uses: its explicit provider's input, else the
        default provider's (stack config `azure-native:location`)."""
        if r.provider:
            explicit = self.by_urn.get(r.provider.rsplit("::", 1)[0])
            if explicit is not None:
                return text_of(explicit.inputs.get("location"))
        return self.default_location

    def region_of(self, r: Registration, depth: int = 0) -> str | None:
        """The resource's `location`; else its parent resource's; else the location the azure-native provider gives
        a resource created without one: the provider's configured location first, then the resource group's
        (pulumi/pulumi-azure-native, provider/pkg/provider/provider.go `getDefaultLocation`)."""
        own = text_of(r.inputs.get("location"))
        if own or depth > 4:
            return _region(own) if own else None
        group = text_of(r.inputs.get("resourceGroupName"))
        parent: Registration | None = None
        if r.type in _PARENT_BY_NAME:
            key, parent_type = _PARENT_BY_NAME[r.type]
            parent = self._linked(r, key, parent_type, group)
        for key in _PARENT_ID_KEYS:
            parent = parent or self.referenced(r.inputs.get(key))
        if parent is not None:
            return self.region_of(parent, depth + 1)
        configured = self.provider_location(r)
        if configured:
            return _region(configured)
        parent = self._linked(r, "resourceGroupName", "azure-native:resources:ResourceGroup")
        return self.region_of(parent, depth + 1) if parent is not None else None

    def top_level(self, r: Registration) -> Registration | None:
        """The ancestor directly under the stack, when it is a component; None for resources outside components."""
        node = r
        while node.parent in self.by_urn and self.by_urn[node.parent].type != STACK_TYPE:
            node = self.by_urn[node.parent]
        return None if node.custom else node
