"""Hand-built plans for the cost and diagram tests: registrations as the engine records them, without running a program."""

from __future__ import annotations

from typing import Any

from aiinfra.engine import Plan, Registration

STACK_URN = "urn:pulumi:t::acme::pulumi:pulumi:Stack::acme-t"
SUBSCRIPTION = "/subscriptions/00000000-0000-0000-0000-000000000000"


class PlanBuilder:
    """`add(...)` resources and components; `plan()` returns them as a recorded `Plan`."""

    def __init__(self, stack: str = "t") -> None:
        self.stack = stack
        self.resources: list[Registration] = []

    def component(self, type_token: str, name: str, parent: Registration | None = None) -> Registration:
        return self._register(type_token, name, {}, parent, custom=False)

    def add(
        self,
        type_token: str,
        name: str,
        inputs: dict[str, Any],
        parent: Registration | None = None,
        depends_on: list[Registration] | None = None,
    ) -> Registration:
        return self._register(type_token, name, inputs, parent, custom=True, depends_on=depends_on or [])

    def _register(
        self,
        type_token: str,
        name: str,
        inputs: dict[str, Any],
        parent: Registration | None,
        custom: bool,
        depends_on: list[Registration] | None = None,
    ) -> Registration:
        parent_urn = parent.urn if parent else STACK_URN
        chain = parent_urn.split("::")[2]
        urn = f"urn:pulumi:{self.stack}::acme::{chain}${type_token}::{name}"
        rid = None
        if custom:
            group = inputs.get("resourceGroupName", "rg")
            rid = f"{SUBSCRIPTION}/resourceGroups/{group}/providers/{type_token.split(':')[-1]}/{name}"
        registration = Registration(
            urn=urn,
            type=type_token,
            name=name,
            parent=parent_urn,
            custom=custom,
            provider=None,
            inputs=inputs,
            dependencies=[d.urn for d in depends_on or []],
            property_dependencies={},
            protect=False,
            id=rid,
            outputs={**inputs, "id": rid} if custom else {},
        )
        self.resources.append(registration)
        return registration

    def plan(self) -> Plan:
        return Plan(
            project="acme",
            stack=self.stack,
            program=".",
            resources=sorted(self.resources, key=lambda r: r.urn),
            stack_outputs={},
            component_outputs={},
        )


def aml_cluster(size: str, low: int, high: int, priority: str = "Dedicated") -> dict[str, Any]:
    return {
        "resourceGroupName": "rg-a",
        "workspaceName": "mlw",
        "properties": {
            "computeType": "AmlCompute",
            "properties": {
                "vmSize": size,
                "vmPriority": priority,
                "scaleSettings": {"minNodeCount": float(low), "maxNodeCount": float(high)},
            },
        },
    }
