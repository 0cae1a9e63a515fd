"""The base every args model shares: strict pydantic, camelCase aliases, clear errors, Pulumi inputs."""

from __future__ import annotations

import difflib
import typing
from typing import TYPE_CHECKING, Annotated, Any

import pulumi
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel


class ComponentArgsError(pulumi.RunError, ValueError):
    """Args a component cannot build from. Raised before any child resource is registered.

    It is a `pulumi.RunError`, so `pulumi up` prints the message without a stack trace.
    """


def _str_or_output(value: Any) -> Any:
    if isinstance(value, (str, pulumi.Output)):
        return value
    raise ValueError(f"expected a string or a pulumi Output, got {type(value).__name__}")


if TYPE_CHECKING:
    InputStr = pulumi.Input[str]
else:
    InputStr = Annotated[Any, PlainValidator(_str_or_output), WithJsonSchema({"type": "string"})]
"""A string, or a pulumi `Output[str]` (e.g. another resource's id)."""

if TYPE_CHECKING:
    ResourceList = list[pulumi.Resource]
else:
    ResourceList = Annotated[
        list[pulumi.Resource], WithJsonSchema({"type": "array", "items": {"description": "a pulumi Resource"}})
    ]
"""Resources to wait for (`depends_on`), carried in args from the component that made them."""


def publish(component: pulumi.ComponentResource, **outputs: Any) -> None:
    """A component's outputs, given once: each becomes an attribute (`component.workspace_id`) and a registered
    output in camelCase (`workspaceId`, what `pulumi stack output` and the plan show).

    Declare the attributes' types on the class (for pyright and IDE completion) and call this once, last, in the
    constructor, instead of assigning attributes and repeating them in `register_outputs`.
    """
    for key, value in outputs.items():
        setattr(component, key, value)
    component.register_outputs({to_camel(key): value for key, value in outputs.items()})


def duplicates(values: typing.Iterable[str]) -> list[str]:
    """The values that occur more than once, sorted: for "names must be unique" checks."""
    seen = list(values)
    return sorted({v for v in seen if seen.count(v) > 1})


class ArgsModel(BaseModel):
    """Base for component args and settings.

    - unknown fields are errors (a typo must not be silently ignored);
    - fields accept snake_case in Python and camelCase in YAML stack config;
    - values are validated at construction, so a bad value fails before any resource exists.

    It is an ordinary pydantic model, so pyright and IDEs see each subclass's keyword arguments, their types and
    defaults. Construction from Python (a Pulumi program) turns a validation error into a `ComponentArgsError`
    naming each field, which `pulumi up` prints without a traceback. Config files go through `model_validate`,
    which keeps pydantic's error so the caller can name the YAML path; nested models are validated by pydantic's
    core and never pass through `__init__`.
    """

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_attribute_docstrings=True,
        arbitrary_types_allowed=True,
        validate_default=True,
    )

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            lines = format_validation_error(exc, type(self))
            raise ComponentArgsError(f"{type(self).__name__}: invalid args:\n  " + "\n  ".join(lines)) from None

    # Nested models are validated by pydantic's core, not through this `__init__`, so one error names the whole
    # path (`access.data_scientists_group_object_id`). The marker is how pydantic itself (RootModel) says so.
    __init__.__pydantic_base_init__ = True  # pyright: ignore[reportFunctionMemberAccess]


def _model_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The args model that owns the last key of `loc`, walking nested models, lists and optionals."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if field is None:
            return None
        model = _first_model(field.annotation)
    return model


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def format_validation_error(
    error: ValidationError, model: type[BaseModel] | None = None, prefix: str = ""
) -> list[str]:
    """One line per problem: `<path>: <reason>`, the path as the caller wrote it (aliases, [i] indexes).

    With `model`, an unknown key gets the closest valid key as a suggestion.
    """
    lines = []
    for item in error.errors():
        path = prefix
        for part in item["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += ("." if path else "") + str(part)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
            owner = _model_at(model, tuple(item["loc"][:-1]))
            if owner is not None:
                valid = sorted(f.alias or n for n, f in owner.model_fields.items())
                # Suggest in the caller's own spelling: snake_case from Python, camelCase from YAML.
                spellings = sorted(set(valid) | set(owner.model_fields))
                close = difflib.get_close_matches(str(item["loc"][-1]), spellings, n=1)
                message += f"; did you mean '{close[0]}'?" if close else f"; valid keys: {', '.join(valid)}"
        elif item["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{path or '<root>'}: {message}")
    return lines
