"""docs/architecture-prd.md is the diagram `make diagram` writes; CI fails when it is stale."""

from __future__ import annotations

from mermaid_syntax import parse

from aiinfra.engine.cost import PlanIndex
from aiinfra.engine.diagram import render_markdown

DOC = "docs/architecture-prd.md"
COMMAND = f"python -m stacks.preview prd --diagram {DOC}"


def test_committed_prd_diagram_is_current(repo, plan_of):
    committed = (repo / DOC).read_text()
    assert committed == render_markdown(plan_of("prd"), command=COMMAND), f"{DOC} is stale: run `make diagram`"


def test_prd_diagram_is_valid_and_shows_every_component(repo, plan_of):
    chart = parse((repo / DOC).read_text().split("```mermaid\n", 1)[1].split("```", 1)[0])
    plan = plan_of("prd")
    index = PlanIndex(plan.resources)
    components = {top.name for r in plan.resources if (top := index.top_level(r)) is not None}
    shown = {label.strip('"').split(" (")[0] for label in chart.subgraphs.values()}
    assert shown == components
