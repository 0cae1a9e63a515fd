"""Every wait for role assignments to take effect waits again when one of them is replaced (Learn, "Troubleshoot
Azure RBAC": changes take minutes), not only on the first `pulumi up`."""

from __future__ import annotations

from aiinfra.engine import Plan

SLEEP = "time:index/sleep:Sleep"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"


def test_each_rbac_wait_is_triggered_by_the_principal_scope_and_role_of_each_grant_it_waits_for(plan: Plan) -> None:
    by_urn = {r.urn: r for r in plan.resources}
    waits = [s for s in plan.of_type(SLEEP) if any(by_urn[u].type == ROLE_ASSIGNMENT for u in s.dependencies)]
    assert waits
    for wait in waits:
        grants = [by_urn[u] for u in wait.dependencies if by_urn[u].type == ROLE_ASSIGNMENT]
        triggers = wait.inputs.get("triggers") or {}
        expected = {
            "|".join([g.inputs["principalId"], g.inputs["scope"], g.inputs["roleDefinitionId"]]) for g in grants
        }
        assert set(triggers.values()) == expected, wait.name
