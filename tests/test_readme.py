"""README's generated sections (costs, dev idle, prd diagram, policy table) match the code."""

from __future__ import annotations

import pytest

from tools.policy_table import ENVIRONMENTS
from tools.readme import README, render_sections, updated_readme


def test_readme_generated_sections_are_current(plan_of):
    text = README.read_text()
    wanted = updated_readme(text, render_sections({env: plan_of(env) for env in ENVIRONMENTS}))
    assert wanted == text, "README.md is stale: run `make readme` and commit the result"


def test_readme_states_the_two_commands():
    text = README.read_text()
    assert "make preview ENV=prd" in text and "make test" in text


def test_missing_section_marker_is_an_error():
    with pytest.raises(ValueError, match="no generated section"):
        updated_readme("# nothing here\n", {"environments": "x"})
