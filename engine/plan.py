"""The plan model: what one offline preview recorded, and its JSON (written by `preview --json`, read back by cost,
diff and anything else that works on a saved plan).

Plain data only (dataclasses, stdlib): the program's own process builds a Plan and sends it back as JSON, whatever
Python and Pulumi SDK the program runs with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SECRET_PLACEHOLDER = "[secret]"  # how a secret value is recorded (what `pulumi preview` prints for one)
COMPUTED_MARKER = "<computed>"  # how an unknown value is recorded (`pulumi preview`'s "output<T>")
STACK_TYPE = "pulumi:pulumi:Stack"


class PlanFormatError(Exception):
    """A saved plan cannot be read; the message names the file and the field."""


@dataclass
class Registration:
    """One resource as the engine saw it: what the program asked for, and what the mock answered."""

    urn: str
    type: str
    name: str
    parent: str | None
    custom: bool
    provider: str | None
    inputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    replace_on_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    secret_inputs: list[str] = field(default_factory=list)
    """Top-level inputs whose value is, or contains, a secret (shown as `[secret]` by `pulumi preview`)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "custom": self.custom,
            "provider": self.provider,
            "protect": self.protect,
            "ignoreChanges": sorted(self.ignore_changes),
            "replaceOnChanges": sorted(self.replace_on_changes),
            "deleteBeforeReplace": self.delete_before_replace,
            "secretInputs": sorted(self.secret_inputs),
            "id": self.id,
            "inputs": self.inputs,
            "dependencies": sorted(set(self.dependencies)),
            "propertyDependencies": {k: sorted(set(v)) for k, v in sorted(self.property_dependencies.items())},
            "outputs": self.outputs,
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> Registration:
        f = _Fields(data, where)
        return cls(
            urn=f.text("urn"),
            type=f.text("type"),
            name=f.text("name"),
            parent=f.optional_text("parent"),
            custom=f.flag("custom"),
            provider=f.optional_text("provider"),
            inputs=f.mapping("inputs"),
            dependencies=[str(d) for d in f.sequence("dependencies")],
            property_dependencies={str(k): [str(u) for u in v] for k, v in f.mapping("propertyDependencies").items()},
            protect=f.flag("protect"),
            id=f.optional_text("id"),
            outputs=f.mapping("outputs"),
            ignore_changes=[str(p) for p in f.sequence("ignoreChanges")],
            replace_on_changes=[str(p) for p in f.sequence("replaceOnChanges")],
            delete_before_replace=f.flag("deleteBeforeReplace"),
            secret_inputs=[str(p) for p in f.sequence("secretInputs")],
        )


@dataclass
class Plan:
    """Everything one offline preview registered, in a stable order."""

    project: str
    stack: str
    program: str
    resources: list[Registration]
    stack_outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    semantics: str = "up"  # "up": outputs as `pulumi up` leaves them; "preview": as `pulumi preview` shows them
    default_providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Inputs of each package's default provider that the engine takes from stack config, as `pulumi up` configures
    it (`azure-native:location` becomes {"azure-native": {"location": ...}}); resources with no `provider` use it."""

    def by_urn(self) -> dict[str, Registration]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_token]

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type] = counts.get(r.type, 0) + 1
        return dict(sorted(counts.items()))

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "program": self.program,
            "semantics": self.semantics,
            "summary": self.summary(),
            "resourceCount": len(self.resources),
            "resources": [r.as_json() for r in self.resources],
            "stackOutputs": self.stack_outputs,
            "componentOutputs": dict(sorted(self.component_outputs.items())),
            "warnings": self.warnings,
            "defaultProviders": self.default_providers,
        }

    @classmethod
    def from_json(cls, document: Any, where: str) -> Plan:
        """A plan saved by `preview --json` (the whole document, or its "plan" member)."""
        data = document.get("plan", document) if isinstance(document, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
            raise PlanFormatError(f"{where}: expected a plan with a 'resources' list (as `preview --json` writes)")
        f = _Fields(data, where)
        return cls(
            project=str(data.get("project") or ""),
            stack=str(data.get("stack") or ""),
            program=str(data.get("program") or ""),
            resources=[
                Registration.from_json(item, f"{where}: resources[{i}]") for i, item in enumerate(data["resources"])
            ],
            stack_outputs=f.mapping("stackOutputs"),
            component_outputs=f.mapping("componentOutputs"),
            warnings=[str(w) for w in f.sequence("warnings")],
            semantics=str(data.get("semantics") or "up"),
            default_providers={
                str(k): dict(v) for k, v in f.mapping("defaultProviders").items() if isinstance(v, dict)
            },
        )


class _Fields:
    """Typed access to one JSON object's fields, with errors that name the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise PlanFormatError(f"{where}: expected an object")
        self.data, self.where = data, where

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise PlanFormatError(f"{self.where}.{key}: expected a string, got {value!r}")
        if not value:
            raise PlanFormatError(f"{self.where}.{key}: expected a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise PlanFormatError(f"{self.where}.{key}: expected a string or null")
        return value or None

    def flag(self, key: str) -> bool:
        return bool(self.data.get(key))

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key) or {}
        if not isinstance(value, dict):
            raise PlanFormatError(f"{self.where}.{key}: expected an object")
        return dict(value)

    def sequence(self, key: str) -> list[Any]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise PlanFormatError(f"{self.where}.{key}: expected a list")
        return list(value)
