"""docs/policies.md is generated from the pack: the committed file must be what the generator writes now."""

from __future__ import annotations

from pack_client import ENVIRONMENTS, PACK, Pack

from aiinfra.engine.analyzer import load_policy_config, reconcile_config
from tools import policy_table as table


def test_committed_table_matches_the_pack() -> None:
    assert table.DOC.read_text() == table.render(), "docs/policies.md is stale: run `python -m tools.policy_table`"


def test_table_levels_are_the_levels_the_engine_configures(pack: Pack) -> None:
    configs = table.load_configs()
    for env in ENVIRONMENTS:
        engine_levels = {
            name: level
            for name, (level, _) in reconcile_config(
                pack.policies, load_policy_config(PACK / "config" / f"{env}.json"), env
            ).items()
        }
        assert engine_levels == {r.name: table.level(r, configs[env]) for r in table.RULES}


def test_table_lists_every_policy_once() -> None:
    text = table.render()
    for r in table.RULES:
        assert text.count(f"| `{r.name}` | {r.concern} |") == 1


def test_groups_follow_the_design_and_deployability_stands_alone() -> None:
    text = table.render()
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    concerns = [heading for _, heading, _ in table.grouped(table.RULES)]
    assert headings[: len(concerns)] == concerns
    deployability = [r for r in table.RULES if r.concern == "deployability"]
    assert deployability, "the pack has deployability rules (e.g. private-endpoint-group-id-valid)"
    section = text.split("## Deployability")[1].split("\n## ")[0]
    assert all(f"| `{r.name}` | deployability |" in section for r in deployability)
    assert not any(f"| `{r.name}` |" in section for r in table.RULES if r.concern != "deployability")


def test_every_rule_names_its_source_in_the_table() -> None:
    text = table.render()
    for r in table.RULES:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{r.name}` |"))
        assert all(source.replace("|", "\\|") in row for source in r.sources)
        assert any(
            kind in "; ".join(r.sources)
            for kind in (
                "Azure Policy",
                "PSRule",
                "Checkov",
                "Learn",
                "aiinfra",
                "retirement",
                "AVM",
                "GitHub",
                "azure-rest-api-specs",
            )
        )
