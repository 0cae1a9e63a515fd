"""Our own environments, priced: what the README's cost table quotes."""

from __future__ import annotations

from aiinfra.engine.cost import estimate


def test_dev_idle_gpu_cost_is_zero(plan_of):
    cost = estimate(plan_of("dev"))
    gpu = [i for i in cost.items if i.gpu]
    assert gpu, "dev has GPU pools; without them this test proves nothing"
    assert [i.label for i in gpu if i.idle_units] == [], "every dev GPU pool scales to zero"
    assert cost.totals.idle_gpu_monthly == 0 and cost.totals.idle_gpu_complete
    assert any(i.max_units for i in gpu), "dev can still burst"


def test_every_environment_is_priced_against_its_budget(plan):
    cost = estimate(plan)
    assert [b.monthly for b in cost.budgets if b.monthly], f"{plan.stack} has no monthly budget in its plan"
    assert cost.groups, "the environment's components are priced"
    assert cost.totals.idle_monthly > 0, "private endpoints and the registry run with zero jobs"
