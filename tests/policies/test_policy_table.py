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
        engine_levels = {name: level for name, (level, _) in reconcile_config(
            pack.policies, load_policy_config(PACK / "config" / f"{env}.json"), env).items()}
        assert engine_levels == {r.name: table.level(r, configs[env]) for r in table.RULES}


def test_table_lists_every_policy_once() -> None:
    text = table.render()
    for r in table.RULES:
        assert text.count(f"| `{r.name}` | {r.concern} |") == 1
