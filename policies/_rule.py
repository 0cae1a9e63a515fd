"""How a rule becomes a pulumi_policy Policy: metadata, config defaults, exemptions, type filtering.

A rule's logic is a plain function (`check` for one resource, `stack_check` for the whole stack) that yields
violation messages; everything engine-facing — filtering by type token, merging the configured values over the
schema defaults, skipping exempted resources — is done once here so every rule behaves the same way.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from ._props import canonical_type

EXEMPTIONS_PROPERTY: dict[str, Any] = {
    "type": "array",
    "description": "Resources this rule does not apply to, each with the reason (kept for audit). `resource` is a "
    "logical name or URN; shell-style wildcards (`*`, `?`) are allowed.",
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 1},
        },
        "required": ["resource", "reason"],
        "additionalProperties": False,
    },
    "default": [],
}


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it: canonical type token, logical name, URN and wire (camelCase) properties."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]


Check = Callable[[Resource, Mapping[str, Any]], Iterable[str]]
# A stack check yields (message, urn of the offending resource or None for the stack as a whole).
StackCheck = Callable[
    [list[PolicyResource], Mapping[str, Any], Callable[[PolicyResource], bool]], Iterable[tuple[str, str | None]]
]


@dataclass(frozen=True)
class Rule:
    """A policy plus what the docs table needs to say about it."""

    name: str
    concern: str
    summary: str
    fix: str
    severity: Severity
    default_level: EnforcementLevel
    sources: tuple[str, ...]
    resource_types: tuple[str, ...] = ()
    config: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    check: Check | None = None
    stack_check: StackCheck | None = None
    exemptable: bool = True

    @property
    def description(self) -> str:
        return f"{self.summary} How to fix: {self.fix}"

    def config_properties(self) -> dict[str, dict[str, Any]]:
        properties = dict(self.config)
        if self.exemptable:
            properties["exemptions"] = EXEMPTIONS_PROPERTY
        return properties

    def defaults(self) -> dict[str, Any]:
        return {key: schema["default"] for key, schema in self.config_properties().items() if "default" in schema}

    def effective_config(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Schema defaults with the configured values on top (the engine already merges; this covers a bare run)."""
        merged = self.defaults()
        merged.update(dict(given or {}))
        return merged

    def policy(self) -> Policy:
        schema = PolicyConfigSchema(properties=self.config_properties()) if self.config_properties() else None
        common: dict[str, Any] = dict(
            name=self.name,
            description=self.description,
            enforcement_level=self.default_level,
            config_schema=schema,
            severity=self.severity,
            tags=[self.concern],
            remediation_steps=self.fix,
        )
        if self.stack_check is not None:
            return StackValidationPolicy(validate=self._validate_stack, **common)
        return ResourceValidationPolicy(validate=self._validate_resource, **common)

    def applies_to(self, type_token: str) -> bool:
        """No resource_types: every azure-native resource (the rule's config narrows it down, e.g. taggedTypes)."""
        if not self.resource_types:
            return type_token.startswith("azure-native:")
        return canonical_type(type_token) in self.resource_types

    def run(self, resource: Resource, config: Mapping[str, Any] | None = None) -> list[str]:
        """The rule's verdict on one resource, with config defaults and exemptions applied (no engine needed)."""
        if self.check is None or not self.applies_to(resource.type):
            return []
        effective = self.effective_config(config)
        if self.exemptable and is_exempt(effective.get("exemptions"), resource.name, resource.urn):
            return []
        typed = Resource(canonical_type(resource.type), resource.name, resource.urn, resource.props)
        return list(self.check(typed, effective))

    def _validate_resource(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = Resource(args.resource_type, args.name, args.urn, args.props)
        for message in self.run(resource, args.get_config()):
            report_violation(message, None)

    def _validate_stack(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        assert self.stack_check is not None
        config = self.effective_config(args.get_config())
        exemptions = config.get("exemptions") if self.exemptable else None

        def exempt(resource: PolicyResource) -> bool:
            return is_exempt(exemptions, resource.name, resource.urn)

        for message, urn in self.stack_check(list(args.resources), config, exempt):
            report_violation(message, urn)


def is_exempt(exemptions: Any, name: str, urn: str) -> bool:
    for entry in exemptions or []:
        pattern = entry.get("resource") if isinstance(entry, Mapping) else entry
        if isinstance(pattern, str) and (fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(urn, pattern)):
            return True
    return False


class _Unknown:
    """Marks a value that cannot be known during preview (a stack rule degrades instead of giving up)."""

    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Any = _Unknown()


def known(read: Callable[[], Any]) -> Any:
    """`read()`, or UNKNOWN if it touches a value that is unknown during preview."""
    try:
        return read()
    except UnknownValueError:
        return UNKNOWN
