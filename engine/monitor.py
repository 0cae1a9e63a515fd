"""A Pulumi MockMonitor that records every registration the way the engine would see it."""

from __future__ import annotations

import threading
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime._callbacks import _CallbackServicer
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from . import arm
from .invokes import RegisteredState, answer_invoke
from .plan import COMPUTED_MARKER, SECRET_PLACEHOLDER, Registration

UP, PREVIEW = "up", "preview"
SEMANTICS = (UP, PREVIEW)
STACK_REFERENCE = "pulumi:pulumi:StackReference"
STACK_REFERENCE_FLAG = "--stack-reference"


class StackReferenceMissing(Exception):
    """The program reads a stack whose outputs the user did not give."""

    @staticmethod
    def message(stack: str) -> str:
        return (
            f"the program reads StackReference '{stack}', whose outputs an offline preview cannot fetch; pass "
            f"them with {STACK_REFERENCE_FLAG} {stack}=FILE (a plan JSON this tool wrote for that stack, "
            "or the output of `pulumi stack output --json`)"
        )


def stack_reference_outputs(wanted: str, given: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The outputs given for the stack `wanted` (`org/project/stack`): by its full name, else by a shorter name the
    user gave that ends it (`project/stack`, `stack`)."""
    if wanted in given:
        return given[wanted]
    matches = [name for name in given if wanted.endswith("/" + name)]
    return given[max(matches, key=len)] if matches else None


class ArmMocks(Mocks):
    """Answers resource registrations with ARM-shaped state and every invoke with an ARM-shaped answer.

    `semantics` chooses what a new resource's outputs are:
    - "up": what `pulumi up` leaves behind: the ARM id and what Azure computes on create (principal ids, endpoints,
      FQDNs), fabricated deterministically; outputs the engine does not fabricate stay unknown;
    - "preview": what `pulumi preview` shows in CI: a resource that does not exist yet has an unknown id and unknown
      computed outputs; only its inputs are known (the provider's preview answers the checked inputs). An `apply` on
      an unknown does not run, and an Output-form invoke that depends on a new resource is unknown.
    """

    def __init__(self, semantics: str = UP, stack_references: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.stack_references = dict(stack_references or {})
        self.missing_reference: str | None = None
        if semantics not in SEMANTICS:
            raise ValueError(f"semantics must be one of {', '.join(SEMANTICS)}, not {semantics!r}")
        self.semantics = semantics
        # Set by the RecordingMonitor: a `get*` of a resource the program registered answers its recorded state.
        self.registered: RegisteredState = lambda _id: None

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        inputs = dict(args.inputs)
        if args.typ == STACK_REFERENCE:
            # A stack reference reads another stack's state, which exists before this run, in preview and up alike.
            stack = str(inputs.get("name") or args.name)
            outputs = stack_reference_outputs(stack, self.stack_references)
            if outputs is None:
                self.missing_reference = stack
                raise StackReferenceMissing(StackReferenceMissing.message(stack))
            return stack, {"name": stack, "outputs": outputs, "secretOutputNames": []}
        if not args.custom:
            return None, inputs
        if args.typ.startswith("pulumi:providers:"):
            return arm.deterministic_uuid(args.typ, args.name), inputs
        rid = arm.resource_id(args.typ, args.name, inputs)
        state = arm.computed_outputs(args.typ, args.name, inputs, rid or "")
        if self.semantics == PREVIEW or rid is None:  # rid None: a parent's name is itself unknown, so is this id
            return "", arm.preview_outputs(state, inputs)
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
        self.warnings: list[str] = []
        self._stack_transform_tokens: list[str] = []
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()
        if isinstance(mocks, ArmMocks):
            mocks.registered = self.registered_state

    def registered_state(self, resource_id: str) -> dict[str, Any] | None:
        """The recorded outputs of the resource the program registered with this ARM id (ids are case-insensitive)."""
        with self._lock:
            urn = self._ids.get(resource_id.lower())
            return self.registrations[urn].outputs if urn else None

    def _transforms(self, request: Any) -> list[Any]:
        """The program's transform callbacks for this registration: its own (`transforms=`), then the stack's
        (`register_resource_transform`), in the order the engine runs them."""
        tokens = [c.token for c in request.transforms] + self._stack_transform_tokens
        if not tokens:
            return []
        callbacks: dict[str, Any] = {}
        for servicer in _CallbackServicer._servicers:
            callbacks.update(servicer._callbacks)
        return [callbacks[t] for t in tokens if t in callbacks]

    def _apply_transforms(self, request: Any) -> Any:
        """Run the program's transforms on a registration as the engine does under `pulumi up`: each gets the
        properties and options, and what it returns replaces them. The mock monitor alone runs none."""
        transforms = self._transforms(request)
        if not transforms:
            return request
        _ensure_event_loop()
        request = type(request).FromString(request.SerializeToString())  # a copy: the SDK keeps its own
        options = resource_pb2.TransformResourceOptions(
            depends_on=list(request.dependencies),
            protect=request.protect,
            ignore_changes=list(request.ignoreChanges),
            replace_on_changes=list(request.replaceOnChanges),
            version=request.version,
            provider=request.provider,
            retain_on_delete=request.retainOnDelete,
            deleted_with=request.deletedWith,
            delete_before_replace=request.deleteBeforeReplace,
            additional_secret_outputs=list(request.additionalSecretOutputs),
        )
        properties = request.object
        for transform in transforms:
            message = resource_pb2.TransformRequest(
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                properties=properties,
                options=options,
            )
            response = _sync_await(transform(message.SerializeToString()))
            properties = response.properties
            if response.HasField("options"):
                options = response.options
        request.object.CopyFrom(properties)
        request.protect = options.protect
        request.retainOnDelete = options.retain_on_delete
        request.deleteBeforeReplace = options.delete_before_replace
        for field_name, values in (
            ("ignoreChanges", options.ignore_changes),
            ("replaceOnChanges", options.replace_on_changes),
            ("additionalSecretOutputs", options.additional_secret_outputs),
        ):
            del getattr(request, field_name)[:]
            getattr(request, field_name).extend(values)
        return request

    def RegisterStackTransform(self, request):  # noqa: N802 - gRPC method name
        with self._lock:
            self._stack_transform_tokens.append(request.token)
        return super().RegisterStackTransform(request)

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        if request.type != "pulumi:pulumi:Stack":
            request = self._apply_transforms(request)
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
            if registration.id and registration.custom and not request.type.startswith("pulumi:"):
                other = self._ids.get(registration.id.lower())
                if other is not None:
                    # ARM has one resource per id: both would manage (and fight over) the same Azure resource.
                    self.warnings.append(
                        f"{other} and {registration.urn} are the same Azure resource {registration.id}: "
                        "give one of them another name (or parent)"
                    )
                self._ids[registration.id.lower()] = registration.urn
            self.registrations[registration.urn] = registration
        return response

    def RegisterResourceHook(self, request):  # noqa: N802 - gRPC method name
        with self._lock:
            self.warnings.append(
                f"resource hook '{request.name}' ignored: an offline preview creates, updates and deletes nothing, "
                "so no hook runs"
            )
        return super().RegisterResourceHook(request)

    def RegisterErrorHook(self, request):  # noqa: N802 - gRPC method name
        with self._lock:
            self.warnings.append(f"error hook '{request.name}' ignored: an offline preview retries no failed step")
        return super().RegisterErrorHook(request)

    def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
        outputs = rpc.deserialize_properties(request.outputs) if request.outputs else {}
        with self._lock:
            self.component_outputs[request.urn] = _json_safe(outputs)
        return super().RegisterResourceOutputs(request)
