"""A Mermaid flowchart of a recorded plan: top-level components as subgraphs, their main resources, dependencies.

Generic over any azure-native program: it knows Azure resource types, not our components. What a person wants to see
is drawn (workspaces, clusters, pools, registries, vaults, the VNet and its private endpoints); plumbing (role
assignments, DNS zone groups, subnets, diagnostic settings ...) is counted in one note per component, and a dependency
on a hidden resource is drawn to the resource it belongs to (a subnet's VNet, a key's vault). Private endpoints get an
edge to their VNet and to the resource they expose. The output is deterministic and renders on GitHub.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiinfra.catalog.pools import AKS_POOL, Pool, pools, workload_profile, workload_profiles

from .cost import PlanIndex, azure_name, dig, text_of
from .plan import Plan, Registration

# azure-native type (without the prefix) -> what a person calls it. Others: the type's name, split into words.
_TITLES = {
    "app:ContainerApp": "Container App",
    "app:Job": "Container Apps job",
    "app:ManagedEnvironment": "Container Apps environment",
    "applicationinsights:Component": "Application Insights",
    "batch:BatchAccount": "Batch account",
    "batch:Pool": "Batch pool",
    "cognitiveservices:Account": "AI services",
    "compute:VirtualMachine": "VM",
    "compute:VirtualMachineScaleSet": "VM scale set",
    "consumption:Budget": "Budget",
    "containerregistry:Registry": "Container registry",
    "containerservice:AgentPool": "AKS node pool",
    "containerservice:ManagedCluster": "AKS cluster",
    "insights:Component": "Application Insights",
    "keyvault:Vault": "Key Vault",
    "machinelearningservices:Compute": "ML compute",
    "machinelearningservices:Workspace": "ML workspace",
    "managedidentity:UserAssignedIdentity": "Managed identity",
    "network:AzureFirewall": "Azure Firewall",
    "network:NetworkSecurityGroup": "NSG",
    "network:PrivateEndpoint": "Private endpoint",
    "network:VirtualNetwork": "VNet",
    "operationalinsights:Workspace": "Log Analytics",
    "privatedns:PrivateZone": "Private DNS zone",
    "storage:StorageAccount": "Storage account",
}

# How the note counts plumbing, where the type's own name reads badly.
_NOUNS = {
    "authorization:ManagementLockAtResourceGroupLevel": "lock",
    "authorization:ManagementLockByScope": "lock",
    "insights:DiagnosticSetting": "diagnostic setting",
    "monitor:DiagnosticSetting": "diagnostic setting",
    "network:PrivateDnsZoneGroup": "DNS zone group",
    "privatedns:VirtualNetworkLink": "DNS zone VNet link",
    "storage:ManagementPolicy": "storage lifecycle policy",
    "privatedns:PrivateRecordSet": "private DNS record",
    "containerservice:MaintenanceConfiguration": "AKS maintenance window",
    "monitor:DataCollectionRuleAssociation": "data collection rule association",
}

# Plumbing: counted in the component's note, not drawn.
_HIDDEN = {
    "authorization:ManagementLockAtResourceGroupLevel",
    "authorization:ManagementLockByScope",
    "authorization:PolicyAssignment",
    "authorization:RoleAssignment",
    "authorization:RoleDefinition",
    "containerservice:MaintenanceConfiguration",
    "monitor:DataCollectionRuleAssociation",
    "insights:DiagnosticSetting",
    "monitor:DiagnosticSetting",
    "storage:ManagementPolicy",
    "keyvault:AccessPolicy",
    "keyvault:Key",
    "keyvault:Secret",
    "machinelearningservices:ManagedNetworkSettingsRule",
    "managedidentity:FederatedIdentityCredential",
    "network:PrivateDnsZoneGroup",
    "network:Route",
    "network:SecurityRule",
    "network:Subnet",
    "network:SubnetNetworkSecurityGroupAssociation",
    "privatedns:PrivateRecordSet",
    "privatedns:PrivateZone",
    "privatedns:VirtualNetworkLink",
    "resources:ResourceGroup",
    "storage:BlobContainer",
    "storage:BlobServiceProperties",
    "storage:FileShare",
    "storage:Queue",
    "storage:Table",
}
# Drawn as one node per component with a count: there are many and they matter only as a set.
_GROUPED = {"privatedns:PrivateZone"}

_SHAPES = {  # Mermaid node shapes: (open, close)
    "storage:StorageAccount": ("[(", ")]"),
    "containerregistry:Registry": ("[(", ")]"),
    "network:PrivateEndpoint": ("([", "])"),
    "network:VirtualNetwork": ("{{", "}}"),
}
_CLASSES = {
    "gpu": "fill:#fdecea,stroke:#c0392b",
    "network": "fill:#e8f1fb,stroke:#2e6da4",
    "endpoint": "fill:#eef7ee,stroke:#3c8d3c",
    "note": "fill:#f7f7f7,stroke:#bbb,color:#555",
}
_NETWORK_TYPES = {
    "network:VirtualNetwork",
    "network:AzureFirewall",
    "privatedns:PrivateZone",
    "network:NetworkSecurityGroup",
}


def _short(type_token: str) -> str:
    return type_token.removeprefix("azure-native:")


def _words(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()


def title(type_token: str) -> str:
    short = _short(type_token)
    return _TITLES.get(short) or _words(short.split(":")[-1]).capitalize()


def _noun(type_token: str) -> str:
    short = _short(type_token)
    return _NOUNS.get(short) or _words(short.split(":")[-1])


def _counted(noun: str, count: int) -> str:
    return f"{count} {noun}{'s' if count > 1 and not noun.endswith('s') else ''}"


def _escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    return (
        text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("\n", " ")
    )


def _label(*lines: str) -> str:
    return '"' + "<br/>".join(_escape(line) for line in lines if line) + '"'


def _count(value: Any) -> str:
    return str(int(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else "?"


def _pool_detail(pool: Pool) -> str:
    """`Standard_NC4as_T4_v3 x0-2 LowPriority`: size, node range (an AML cluster's when its maximum is known),
    priority as written."""
    shown = pool.max_nodes is not None or pool.kind == AKS_POOL  # an AKS pool always has a count (default 1)
    scale = f"x{_count(pool.min_nodes)}-{_count(pool.max_nodes)}" if shown else ""
    return " ".join(p for p in (text_of(pool.vm_size) or "", scale, text_of(pool.priority) or "") if p)


def _detail(r: Registration, by_id: dict[str, Registration]) -> str:
    """One line of what matters most about a resource: its size, scale or tier."""
    i = r.inputs
    short = _short(r.type)
    if short in ("machinelearningservices:Compute", "containerservice:AgentPool"):
        found = pools(r.type, r.name, i)
        if not found:  # a compute instance, or compute attached from elsewhere: its size if it has one
            return text_of(dig(i, "properties", "properties", "vmSize")) or ""
        return " ".join(_pool_detail(pool) for pool in found)
    if short == "batch:Pool":
        return text_of(i.get("vmSize")) or ""
    if short == "containerservice:ManagedCluster":
        sizes = ", ".join(sorted({text_of(p.vm_size) or "?" for p in pools(r.type, r.name, i)}))
        return f"{text_of(dig(i, 'sku', 'tier')) or 'Free'} tier" + (f", {sizes}" if sizes else "")
    if short == "app:ManagedEnvironment":
        return ", ".join(sorted({text_of(p.kind) or "" for p in workload_profiles(i)} - {"", "Consumption"}))
    if short in ("app:ContainerApp", "app:Job"):
        name = text_of(i.get("workloadProfileName"))
        env = by_id.get((text_of(i.get("managedEnvironmentId")) or text_of(i.get("environmentId")) or "").lower())
        profile = workload_profile(env.inputs, name) if env else None
        return f"on {text_of(profile.kind) or name}" if profile else f"on {name}" if name else ""
    if short == "machinelearningservices:Workspace":
        return text_of(dig(i, "managedNetwork", "isolationMode")) or ""
    sku = i.get("sku")
    if isinstance(sku, dict):
        return text_of(sku.get("tier")) or text_of(sku.get("name")) or ""
    return ""


def _sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "x"


@dataclass
class _Subgraph:
    id: str
    label: str
    nodes: list[str] = field(default_factory=list)
    hidden: Counter[str] = field(default_factory=Counter)


@dataclass
class Diagram:
    """Nodes, subgraphs and edges, before they are written as Mermaid text."""

    nodes: dict[str, str] = field(default_factory=dict)  # id -> node text
    classes: dict[str, list[str]] = field(default_factory=dict)
    subgraphs: list[_Subgraph] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)  # nodes outside any component
    edges: set[tuple[str, str, str]] = field(default_factory=set)  # (from, arrow, to)

    def mermaid(self) -> str:
        lines = ["flowchart LR"]
        for sub in self.subgraphs:
            lines.append(f"  subgraph {sub.id}[{_label(sub.label)}]")
            lines.append("    direction TB")
            lines += [f"    {self.nodes[n]}" for n in sub.nodes]
            lines.append("  end")
        lines += [f"  {self.nodes[n]}" for n in self.loose]
        lines += [f"  {a} {arrow} {b}" for a, arrow, b in sorted(self.edges)]
        for name, style in _CLASSES.items():
            members = sorted(self.classes.get(name, []))
            if members:
                lines.append(f"  classDef {name} {style}")
                lines.append(f"  class {','.join(members)} {name}")
        return "\n".join(lines) + "\n"


class _Builder:
    def __init__(self, resources: Iterable[Registration]) -> None:
        self.resources = sorted(resources, key=lambda r: r.urn)
        self.index = PlanIndex(self.resources)
        self.by_urn = self.index.by_urn
        self.by_id = self.index.by_id
        self.diagram = Diagram()
        self.node_of: dict[str, str] = {}  # urn -> the node (or subgraph) that stands for it
        self.group_of: dict[str, str | None] = {}  # urn -> subgraph id of its top-level component
        self.used_ids: set[str] = set()
        self.drawn: set[str] = set()  # urns of resources with a node of their own (or in a grouped node)

    def _new_id(self, prefix: str, name: str) -> str:
        base = f"{prefix}_{_sanitize(name)}"
        candidate, n = base, 2
        while candidate in self.used_ids:
            candidate, n = f"{base}_{n}", n + 1
        self.used_ids.add(candidate)
        return candidate

    def _owner(self, r: Registration) -> Registration | None:
        """The drawn resource a hidden one belongs to: the one it names by `<type>Name` (a subnet's VNet ...)."""
        group = text_of(r.inputs.get("resourceGroupName"))
        kind = r.type.split(":")[-1]
        own_key = kind[:1].lower() + kind[1:] + "Name"
        for key in sorted(r.inputs):
            value = text_of(r.inputs.get(key))
            if not key.endswith("Name") or key in ("resourceGroupName", own_key) or value is None:
                continue
            stem = key[:-4].lower()
            for other in self.resources:
                other_kind = other.type.split(":")[-1].lower()
                if (
                    other.urn in self.drawn
                    and azure_name(other) == value
                    and (stem == "resource" or other_kind.endswith(stem) or stem.endswith(other_kind))
                    and text_of(other.inputs.get("resourceGroupName")) in (group, None)
                ):
                    return other
        return None

    def build(self) -> Diagram:
        subgraphs: dict[str, _Subgraph] = {}
        tops = {r.urn: self.index.top_level(r) for r in self.resources}
        for top in sorted({t.urn: t for t in tops.values() if t is not None}.values(), key=lambda t: (t.name, t.urn)):
            kind = top.type.split(":")[-1]
            sub = _Subgraph(self._new_id("g", top.name), f"{top.name} ({kind})")
            subgraphs[top.urn] = sub
            self.diagram.subgraphs.append(sub)
        for r in self.resources:
            top = tops[r.urn]
            self.group_of[r.urn] = subgraphs[top.urn].id if top else None
            if not r.custom:
                self.node_of[r.urn] = subgraphs[top.urn].id if top else ""
        hidden: list[Registration] = []
        grouped: dict[tuple[str | None, str], list[Registration]] = {}
        for r in self.resources:
            short = _short(r.type)
            if not r.custom or not r.type.startswith("azure-native:"):
                continue
            top = tops[r.urn]
            sub = subgraphs[top.urn] if top else None
            if short in _GROUPED:
                grouped.setdefault((sub.id if sub else None, short), []).append(r)
            elif short in _HIDDEN:
                hidden.append(r)
                if sub:
                    sub.hidden[r.type] += 1
            else:
                detail = _detail(r, self.by_id)
                self._add_node(
                    r,
                    sub,
                    self._new_id("n", r.name),
                    _label(title(r.type), azure_name(r), detail),
                    gpu=re.search(r"\bStandard_N[A-Z]|GPU", detail) is not None,
                )
        self._add_grouped_nodes(grouped)
        for r in hidden:
            owner = self._owner(r)
            if owner is not None:
                self.node_of[r.urn] = self.node_of[owner.urn]
        self._add_plumbing_notes()
        self._dependency_edges()
        self._private_endpoint_edges()
        return self.diagram

    def _add_grouped_nodes(self, grouped: dict[tuple[str | None, str], list[Registration]]) -> None:
        """One node per (subgraph, type) for the types drawn as a group, listing up to six names."""
        for (sub_id, short), members in sorted(grouped.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
            sub = next((s for s in self.diagram.subgraphs if s.id == sub_id), None)
            names = sorted(azure_name(m) for m in members)
            lines = [f"{title(members[0].type)}s ({len(members)})" if len(members) > 1 else title(members[0].type)]
            lines += names[:6] + ([f"+ {len(names) - 6} more"] if len(names) > 6 else [])
            node_id = self._new_id("n", f"{sub_id or 'stack'}_{short.split(':')[-1]}")
            self._add_node(members[0], sub, node_id, _label(*lines))
            for m in members:
                self.node_of[m.urn] = node_id
                self.drawn.add(m.urn)

    def _add_plumbing_notes(self) -> None:
        """A note in each subgraph counting the resources it does not draw."""
        for sub in self.diagram.subgraphs:
            if sub.hidden:
                note = self._new_id("n", f"{sub.id}_plumbing")
                counts: Counter[str] = Counter()
                for kind, n in sub.hidden.items():
                    counts[_noun(kind)] += n  # types that read the same (two kinds of lock) count together
                parts = [f"+ {_counted(noun, n)}" for noun, n in sorted(counts.items())]
                self.diagram.nodes[note] = f"{note}[{_label(*parts)}]"
                self.diagram.classes.setdefault("note", []).append(note)
                sub.nodes.append(note)

    def _add_node(self, r: Registration, sub: _Subgraph | None, node_id: str, label: str, gpu: bool = False) -> None:
        short = _short(r.type)
        opening, closing = _SHAPES.get(short, ("[", "]"))
        self.diagram.nodes[node_id] = f"{node_id}{opening}{label}{closing}"
        (sub.nodes if sub else self.diagram.loose).append(node_id)
        self.node_of[r.urn] = node_id
        self.drawn.add(r.urn)
        css = (
            "endpoint"
            if short == "network:PrivateEndpoint"
            else "gpu"
            if gpu
            else "network"
            if short in _NETWORK_TYPES
            else None
        )
        if css:
            self.diagram.classes.setdefault(css, []).append(node_id)

    def _target(self, source: Registration, dep_urn: str) -> str | None:
        """The node or subgraph a dependency on `dep_urn` is drawn to; None to draw nothing."""
        dep = self.by_urn.get(dep_urn)
        if dep is None:
            return None
        node = self.node_of.get(dep_urn)
        if node:
            return node
        if self.group_of.get(dep_urn) != self.group_of.get(source.urn):
            return self.group_of.get(dep_urn)  # a hidden resource of another component: the component
        return None

    def _dependency_edges(self) -> None:
        for r in self.resources:
            source = self.node_of.get(r.urn)
            if not source or not r.custom:
                continue
            deps = set(r.dependencies) | {u for urns in r.property_dependencies.values() for u in urns}
            for dep in sorted(deps):
                dependency = self.by_urn.get(dep)
                if dependency is None or dependency.type == "azure-native:resources:ResourceGroup":
                    continue  # everything sits in a resource group: those arrows say nothing
                target = self._target(r, dep)
                if dependency.type == r.type and dependency.urn in self.node_of:
                    continue  # one endpoint waiting for another is sequencing, not architecture
                if target and target != source:
                    self.diagram.edges.add((source, "-->", target))

    def _vnet_of(self, subnet_id: str) -> str | None:
        """The VNet node of a subnet id: the VNet whose id prefixes it, or the subnet resource's owner."""
        for r in self.resources:
            if r.type == "azure-native:network:VirtualNetwork" and r.id and subnet_id.startswith(r.id.lower() + "/"):
                return self.node_of.get(r.urn)
        subnet = self.by_id.get(subnet_id)
        return self.node_of.get(subnet.urn) if subnet is not None else None

    def _private_endpoint_edges(self) -> None:
        """PE -.-> its VNet, and PE --> the resource it exposes, labelled with the sub-resource (blob, vault ...)."""
        for pe in self.resources:
            if pe.type != "azure-native:network:PrivateEndpoint" or pe.urn not in self.node_of:
                continue
            source = self.node_of[pe.urn]
            vnet = self._vnet_of((text_of(dig(pe.inputs, "subnet", "id")) or "").lower())
            if vnet:
                self.diagram.edges.discard((source, "-->", vnet))
                self.diagram.edges.add((source, "-.->", vnet))
            connections = [
                *(pe.inputs.get("privateLinkServiceConnections") or []),
                *(pe.inputs.get("manualPrivateLinkServiceConnections") or []),
            ]
            for connection in connections:
                target = self.by_id.get((text_of(dig(connection, "privateLinkServiceId")) or "").lower())
                if target is None or not self.node_of.get(target.urn):
                    continue
                groups = ",".join(g for g in connection.get("groupIds") or [] if isinstance(g, str))
                self.diagram.edges.discard((source, "-->", self.node_of[target.urn]))
                self.diagram.edges.add(
                    (source, f'-->|"{_escape(groups)}"|' if groups else "-->", self.node_of[target.urn])
                )


def build(plan: Plan | Iterable[Registration]) -> Diagram:
    return _Builder(plan.resources if isinstance(plan, Plan) else plan).build()


def render_mermaid(plan: Plan | Iterable[Registration]) -> str:
    """The plan as a Mermaid flowchart (text without fences)."""
    return build(plan).mermaid()


def render_markdown(plan: Plan, command: str | None = None) -> str:
    """A Markdown page with the diagram in a ```mermaid block, which GitHub renders."""
    made_by = f" by `{command}`" if command else ""
    return (
        f"<!-- Generated{made_by}; do not edit by hand. -->\n"
        f"# Architecture: {plan.project} / {plan.stack}\n\n"
        "Top-level components are boxes; arrows point from a resource to what it depends on; dotted arrows join "
        "private endpoints to their VNet. Plumbing (role assignments, DNS zone groups, subnets ...) is counted in "
        "each component's grey note.\n\n"
        f"```mermaid\n{render_mermaid(plan)}```\n"
    )


def write_diagram(plan: Plan, target: Path, command: str | None = None) -> None:
    """Markdown (`.md`) with a mermaid block, or raw Mermaid (`.mmd` and anything else)."""
    text = render_markdown(plan, command) if target.suffix.lower() == ".md" else render_mermaid(plan)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
