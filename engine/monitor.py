"""A Pulumi MockMonitor that records every registration the way the engine would see it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.sync_await import _sync_await

from . import arm
from .invokes import RegisteredState, answer_invoke

SECRET_PLACEHOLDER = "[secret]"  # how a secret value is recorded (what `pulumi preview` prints for one)
COMPUTED_MARKER = "<computed>"  # how an unknown value is recorded (`pulumi preview`'s "output<T>")


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


class ArmMocks(Mocks):
    """Answers resource registrations with ARM-shaped state and every invoke with an ARM-shaped answer."""

    def __init__(self) -> None:
        super().__init__()
        # Set by the RecordingMonitor: a `get*` of a resource the program registered answers its recorded state.
        self.registered: RegisteredState = lambda _id: None

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        inputs = dict(args.inputs)
        if not args.custom:
            return None, inputs
        if args.typ.startswith("pulumi:providers:"):
            return arm.deterministic_uuid(args.typ, args.name), inputs
        rid = arm.resource_id(args.typ, args.name, inputs)
        state = arm.computed_outputs(args.typ, args.name, inputs, rid)
        state["id"] = rid
        return rid, state

    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        """An invoke's result and its check failures (none: every answer is well-formed; see engine/invokes.py)."""
        return answer_invoke(args.token, dict(args.args), self.registered), []


def _secret_inputs(properties: struct_pb2.Struct) -> list[str]:
    """Names of the top-level properties that carry a secret anywhere inside."""
    found = []
    for key in properties.fields:
        one = struct_pb2.Struct()
        one.fields[key].CopyFrom(properties.fields[key])
        if rpc.deserialize_properties_unwrap_secrets(one)[1]:
            found.append(key)
    return found


def _json_safe(value: Any) -> Any:
    """Plain JSON values only: resources become their URN, unknowns and secrets a marker, sets sorted lists.

    Unknowns arrive as `pulumi.output.UNKNOWN` (or the wire sentinel), secrets wrapped in the secret signature;
    both are recorded as fixed markers, so a plan never holds an object's address or a secret's value.
    """
    if isinstance(value, dict):
        if rpc.is_rpc_secret(value):
            return SECRET_PLACEHOLDER
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, pulumi.Resource):
        return {"$resourceReference": _sync_await(value.urn.future()) if hasattr(value, "urn") else None}
    if value == rpc.UNKNOWN or isinstance(value, Unknown):
        return COMPUTED_MARKER
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class RecordingMonitor(MockMonitor):
    """MockMonitor that keeps, per URN, what `pulumi up` would send the engine."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}
        self.component_outputs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        if isinstance(mocks, ArmMocks):
            mocks.registered = self.registered_state

    def registered_state(self, resource_id: str) -> dict[str, Any] | None:
        """The recorded outputs of the resource the program registered with this ARM id (ids are case-insensitive)."""
        wanted = resource_id.lower()
        with self._lock:
            for registration in self.registrations.values():
                if registration.id and registration.id.lower() == wanted:
                    return registration.outputs
        return None

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        inputs = rpc.deserialize_properties(request.object)
        outputs = rpc.deserialize_properties(response.object) if response.object else {}
        registration = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            provider=request.provider or None,
            inputs=_json_safe(inputs),
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            protect=bool(request.protect),
            id=response.id or None,
            outputs=_json_safe(outputs) if request.custom else {},
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            delete_before_replace=bool(request.deleteBeforeReplace),
            secret_inputs=_secret_inputs(request.object),
        )
        with self._lock:
            if registration.urn in self.registrations:
                raise ValueError(
                    f"duplicate resource URN {registration.urn}: two resources of type {request.type} "
                    f"share the logical name '{request.name}'"
                )
            self.registrations[registration.urn] = registration
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        outputs = rpc.deserialize_properties(request.outputs) if request.outputs else {}
        with self._lock:
            self.component_outputs[request.urn] = _json_safe(outputs)
        return super().RegisterResourceOutputs(request)
