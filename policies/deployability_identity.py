"""Deployability of role assignments: what makes a later `pulumi up` fail although the first one succeeded.

- a role assignment with a fixed name (`roleAssignmentName`, e.g. a GUID derived from scope and role so that reruns
  are idempotent) that Pulumi would replace create-before-delete.

ARM refuses to update a role assignment's principal or scope ("RoleAssignmentUpdateNotPermitted: Tenant ID,
application ID, principal ID, and scope are not allowed to be updated"), so pulumi-azure-native replaces the resource
when either changes (pulumi/pulumi-azure-native#771, fixed by #1010). Pulumi replaces create-before-delete by default:
with an auto-generated name the new assignment gets a new GUID and that works; with a fixed name the new assignment
is created under the name the old one still holds and the update fails ("cannot create already existing resource",
the failure and the `deleteBeforeReplace` workaround in pulumi/pulumi-azure-native#2253). A principal id corrected in
config, or a scope that moves to a new resource, then blocks the stack until the assignment is deleted by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, PolicyResource, Severity

from ._rule import Rule
from .stack import _text, _type  # one reading of a stack resource's type and string properties

CONCERN = "deployability"

ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def check_fixed_name_role_assignment_deletes_first(
    resources: list[PolicyResource], _config: Mapping[str, Any], exempt: Callable[[PolicyResource], bool]
) -> Iterator[tuple[str, str | None]]:
    for assignment in resources:
        if _type(assignment) != ROLE_ASSIGNMENT or exempt(assignment):
            continue
        name = _text(assignment, "roleAssignmentName")
        if name is None or assignment.opts.delete_before_replace:
            continue
        yield (
            f"role assignment '{assignment.name}' has the fixed name {name} and is replaced create-before-delete: "
            "when its principalId or scope changes (both force a replacement), the new assignment is created under "
            "the name the old one still holds and `pulumi up` fails; set delete_before_replace=True in its "
            "ResourceOptions, or leave role_assignment_name unset so each replacement gets a new GUID.",
            assignment.urn,
        )


RULES: tuple[Rule, ...] = (
    Rule(
        name="role-assignment-fixed-name-delete-before-replace",
        concern=CONCERN,
        summary="A role assignment with a fixed name must be replaced delete-before-create: ARM refuses changes to "
        "its principal or scope, so the provider replaces it, and a second assignment cannot take the same name.",
        fix="ResourceOptions(delete_before_replace=True) on authorization.RoleAssignment when role_assignment_name is "
        "set (ARM: the assignment's name, Microsoft.Authorization/roleAssignments/{name}); or leave the name unset.",
        severity=Severity.MEDIUM,
        default_level=EnforcementLevel.ADVISORY,
        sources=(
            "GitHub pulumi/pulumi-azure-native#771 and #1010 (principalId and scope force a replacement)",
            "GitHub pulumi/pulumi-azure-native#2253 (fixed names: create-before-delete fails, deleteBeforeReplace works)",
        ),
        stack_check=check_fixed_name_role_assignment_deletes_first,
    ),
)
