"""The component pages stay true: every args field is documented, and every args table is what the models say.

`make docs` (python -m tools.component_docs) fills the tables; these tests fail when a field has no docstring or a
committed page differs from what the generator writes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pulumi
import pytest
from pydantic import BaseModel, Field

import stacks.config
from aiinfra import components
from aiinfra.components._base import ArgsModel
from tools import component_docs as docs

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "docs" / "components"


def _config_models() -> dict[str, type[ArgsModel]]:
    return {
        name: value
        for name, value in vars(stacks.config).items()
        if inspect.isclass(value) and issubclass(value, ArgsModel) and value.__module__ == stacks.config.__name__
    }


def test_the_generator_finds_the_public_models():
    models = docs.public_args_models()
    for name in (
        "SharedServicesArgs",
        "SharedServicesSettings",
        "SharedServicesRef",
        "NamingConvention",
        "CommonArgs",
        "CustomerManagedKey",
        "RoleAssignmentSpec",
        "DeployerIdentityArgs",
    ):
        assert name in models
    assert not [n for n in models if n.startswith("_")]


@pytest.mark.parametrize(
    "model",
    [*docs.public_args_models().values(), *_config_models().values()],
    ids=lambda m: f"{m.__module__}.{m.__name__}",
)
def test_every_args_field_has_a_docstring(model):
    missing = docs.undocumented_fields(model)
    assert not missing, (
        f"{model.__module__}.{model.__name__}: add a docstring under field(s) {', '.join(missing)} "
        "(it becomes the description in the docs and in error messages)"
    )


def test_committed_pages_are_what_the_generator_writes():
    rendered = docs.render_pages(PAGES)
    stale = [path.name for path, text in rendered.items() if path.read_text() != text]
    assert not stale, f"out of date: {', '.join(stale)}; run `make docs`"
    assert docs.main(["--check"]) == 0


def test_every_component_has_a_page_with_its_args_table():
    marked = {
        name
        for text in (p.read_text() for p in PAGES.glob("*.md"))
        for name in re.findall(r"<!-- args-table:start (\w+) -->", text)
    }
    for info in pkgutil.iter_modules(components.__path__):
        module = importlib.import_module(f"components.{info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and issubclass(value, pulumi.ComponentResource)
            ):
                page = PAGES / f"{info.name}.md"
                assert page.is_file(), f"{name}: no page docs/components/{info.name}.md"
                assert f"{name}Args" in marked, f"{name}: no args table (<!-- args-table:start {name}Args -->)"


def test_a_table_shows_every_field_by_yaml_key_python_name_type_and_default():
    text = docs.table(components.SharedServicesArgs)
    for name, field in components.SharedServicesArgs.model_fields.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{field.alias}` | `{name}` |"))
        assert (field.description or "").split()[0] in row
    assert "| `addressSpace` | `address_space` | string | required |" in text
    assert "| `natGateway` | `nat_gateway` | bool | `true` |" in text
    assert "| `logRetentionDays` | `log_retention_days` | int, ≥ 30, ≤ 730 | `30` |" in text
    assert "`standard` \\| `premium`" in text
    assert "[`BudgetSettings`](#budgetsettings) or null" in text
    assert "| `resourceGroupName` | `resource_group_name` | string or Output | required |" in text


def test_nested_models_are_tabled_once_and_linked_elsewhere():
    pages = {p.name: t for p, t in docs.render_pages(PAGES).items()}
    tabled = {
        name: {h.lower() for h in re.findall(r"^#### `(\w+)`$", text, re.MULTILINE)} for name, text in pages.items()
    }
    everywhere = [h for hs in tabled.values() for h in hs]
    assert len(everywhere) == len(set(everywhere)), "a model is tabled on two pages"
    assert "namingconvention" in tabled["interfaces.md"]
    assert "[`NamingConvention`](interfaces.md#namingconvention)" in pages["shared_services.md"]
    for name, text in pages.items():
        for page, anchor in re.findall(r"\]\(([\w-]+\.md)?#(\w+)\)", text):
            assert anchor in tabled[page or name], f"{name}: broken link {page}#{anchor}"


class _Documented(ArgsModel):
    """A model for the generator's own checks."""

    size: int = Field(default=3, ge=1)
    """How many."""


class _Undocumented(BaseModel):
    size: int = 3


def test_undocumented_fields_are_found():
    assert docs.undocumented_fields(_Documented) == []
    assert docs.undocumented_fields(_Undocumented) == ["size"]


@pytest.mark.parametrize(
    "page, error",
    [
        ("<!-- args-table:start NoSuchArgs -->\n<!-- args-table:end -->\n", "no public args model named NoSuchArgs"),
        ("<!-- args-table:start SharedServicesArgs -->\nno end\n", "needs its own '<!-- args-table:end -->'"),
    ],
)
def test_bad_markers_are_reported(tmp_path, capsys, page, error):
    (tmp_path / "x.md").write_text(page)
    assert docs.main(["--check", "--docs-dir", str(tmp_path)]) == 2
    assert error in capsys.readouterr().err


def test_generator_fills_and_then_reports_nothing_stale(tmp_path, capsys):
    page = tmp_path / "shared.md"
    page.write_text("# x\n\n<!-- args-table:start SharedServicesRef -->\nold table\n<!-- args-table:end -->\n")
    assert docs.main(["--check", "--docs-dir", str(tmp_path)]) == 1
    assert docs.main(["--docs-dir", str(tmp_path)]) == 0
    assert "old table" not in page.read_text() and "#### `SharedServicesRef`" in page.read_text()
    assert docs.main(["--check", "--docs-dir", str(tmp_path)]) == 0
    capsys.readouterr()
