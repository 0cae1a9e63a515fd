"""The fixed-name role assignment rule through the pack's gRPC server, with assignments written the ways other teams
write them (a GUID name for idempotent reruns, an auto-named one, one that already deletes first), and on our stacks."""

from __future__ import annotations

import pytest
from pack_client import ENVIRONMENTS, Pack, StackResource, of

RA = "azure-native:authorization:RoleAssignment"
RULE = "role-assignment-fixed-name-delete-before-replace"
SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stdata"


def assignment(name: str, *, fixed: str | None, delete_first: bool = False) -> StackResource:
    props = {
        "scope": SCOPE,
        "principalId": "11111111-2222-3333-4444-555555555555",
        "principalType": "ServicePrincipal",
        "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    }
    if fixed is not None:
        props["roleAssignmentName"] = fixed
    return StackResource(RA, name, props, delete_before_replace=delete_first)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_fixed_name_replaced_create_before_delete_is_refused_in_every_environment(pack: Pack, env: str) -> None:
    pack.configure(env)
    found = of(RULE, pack.analyze_stack([assignment("reader", fixed="6f0c2d1e-8a9b-4c3d-9e8f-7a6b5c4d3e2f")]))
    assert [d.level for d in found] == ["mandatory"]
    assert "delete_before_replace=True" in found[0].message and "6f0c2d1e" in found[0].message


def test_deleting_first_or_letting_the_provider_name_it_is_fine(pack: Pack) -> None:
    pack.configure("prd")
    resources = [
        assignment("first", fixed="0b7c9a52-1d3e-4f60-8a71-92b3c4d5e6f7", delete_first=True),
        assignment("auto", fixed=None),
    ]
    assert of(RULE, pack.analyze_stack(resources)) == []


def test_advisory_by_default(pack: Pack) -> None:
    pack.configure()
    found = of(RULE, pack.analyze_stack([assignment("reader", fixed="6f0c2d1e-8a9b-4c3d-9e8f-7a6b5c4d3e2f")]))
    assert [d.level for d in found] == ["advisory"]


def test_every_role_assignment_of_our_stacks_deletes_first(plan) -> None:
    """Our names are GUIDs derived from the convention (idempotent reruns), so every assignment deletes first."""
    assignments = plan.of_type(RA)
    assert assignments and all(r.inputs.get("roleAssignmentName") for r in assignments)
    assert all(r.delete_before_replace for r in assignments)
