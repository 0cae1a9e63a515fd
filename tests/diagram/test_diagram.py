"""The architecture diagram: valid Mermaid GitHub renders, deterministic, the resources a person wants to see."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from helpers import run_here
from mermaid_syntax import parse
from plan_builder import PlanBuilder

from aiinfra.engine import Plan
from aiinfra.engine.diagram import render_markdown, render_mermaid
from stacks import preview

PROGRAM = Path(__file__).resolve().parent.parent / "cost" / "program"


@pytest.fixture(scope="module")
def stranger() -> Plan:
    return run_here(PROGRAM, "dev")


def label_of(chart, text: str) -> str:
    """The id of the one node whose label contains `text`."""
    found = [node for node, label in chart.nodes.items() if text in label]
    assert len(found) == 1, f"expected one node labelled with {text!r}, found {found}"
    return found[0]


def test_components_are_subgraphs_holding_their_main_resources(stranger):
    chart = parse(render_mermaid(stranger))
    assert sorted(chart.subgraphs.values()) == ['"net (Network)"', '"serve (Serving)"', '"train (Training)"']
    by_label = {label.strip('"'): sub for sub, label in chart.subgraphs.items()}
    train = chart.members[by_label["train (Training)"]]
    for wanted in ("ML workspace<br/>mlw-acme", "Key Vault<br/>kv-acme-train", "ML compute<br/>t4-lp"):
        assert label_of(chart, wanted) in train
    assert (
        label_of(chart, "AKS node pool<br/>a100<br/>Standard_NC24ads_A100_v4 x0-2 Spot")
        in chart.members[by_label["serve (Serving)"]]
    )
    assert label_of(chart, "Budget<br/>acme-monthly") not in {n for m in chart.members.values() for n in m}


def test_plumbing_is_counted_not_drawn(stranger):
    chart = parse(render_mermaid(stranger))
    assert not [label for label in chart.nodes.values() if "Role assignment" in label or "Subnet" in label]
    note = label_of(chart, "+ 1 role assignment")
    assert "+ 2 DNS zone groups" in chart.nodes[note]
    assert chart.nodes[label_of(chart, "+ 1 subnet")].count("<br/>") == 1  # subnet + 2 VNet links, in net
    assert "Private DNS zones (2)" in chart.nodes[label_of(chart, "Private DNS zones")]


def test_private_endpoints_join_their_vnet_and_point_at_what_they_expose(stranger):
    chart = parse(render_mermaid(stranger))
    vnet = label_of(chart, "VNet<br/>vnet-acme")
    vault, workspace = label_of(chart, "Key Vault"), label_of(chart, "ML workspace")
    kv_pe, ws_pe = label_of(chart, "train-kv-pe"), label_of(chart, "train-ws-pe")
    edges = set(chart.edges)
    assert {(kv_pe, "-.->", vnet), (ws_pe, "-.->", vnet)} <= edges
    assert (kv_pe, '-->|"vault"|', vault) in edges and (ws_pe, '-->|"amlworkspace"|', workspace) in edges
    assert (kv_pe, "-->", vnet) not in edges, "one arrow per relation: the dotted one"


def test_dependency_arrows_within_and_across_components(stranger):
    chart = parse(render_mermaid(stranger))
    edges = {(a, b) for a, _, b in chart.edges}
    assert (label_of(chart, "ML workspace"), label_of(chart, "Key Vault")) in edges
    assert (label_of(chart, "ML compute"), label_of(chart, "ML workspace")) in edges
    assert (label_of(chart, "Container App<br/>ca-infer"), label_of(chart, "Container Apps environment")) in edges
    # Across components: the endpoint's DNS zone group (drawn as its endpoint) uses the network's zones.
    assert (label_of(chart, "train-kv-pe"), label_of(chart, "Private DNS zones")) in edges
    assert not [e for e in chart.edges if e[0] == e[2]]


def test_output_is_deterministic_whatever_the_registration_order(stranger):
    first = render_mermaid(stranger)
    shuffled = list(stranger.resources)
    random.Random(7).shuffle(shuffled)
    assert render_mermaid(shuffled) == first == render_mermaid(run_here(PROGRAM, "dev"))


def test_awkward_names_become_safe_ids_and_labels():
    b = PlanBuilder()
    end = b.component("acme:x:Thing", "end")
    b.add("azure-native:keyvault:Vault", "end", {"vaultName": 'kv "quoted" <b>'}, parent=end)
    b.add("azure-native:keyvault:Vault", "end!", {"vaultName": "kv-2"}, parent=end)
    b.add("azure-native:storage:StorageAccount", "1st account", {"accountName": "st1"})
    b.add("azure-native:storage:StorageAccount", "ünïcødé", {"accountName": "st2"})
    chart = parse(render_mermaid(b.plan()))
    assert len(chart.nodes) == 4 and len(chart.subgraphs) == 1
    assert any("kv #quot;quoted#quot; #lt;b#gt;" in label for label in chart.nodes.values())


def test_the_syntax_check_itself_rejects_what_github_would_not_render():
    good = 'flowchart LR\n  subgraph g_a["A"]\n    n_x["X"]\n  end\n  n_y[("Y")]\n  n_x --> n_y\n'
    parse(good)
    for bad in (
        good.replace("n_x --> n_y", "n_x --> n_z"),  # undefined node
        good.replace('n_x["X"]', "n_x[X]"),  # unquoted label
        good.replace('n_y[("Y")]', 'end[("Y")]'),  # keyword as id
        good.replace("  end\n", ""),  # unclosed subgraph
        good.replace('"A"', '"A "B""'),
    ):  # quote inside a label
        with pytest.raises(AssertionError):
            parse(bad)


@pytest.mark.integration  # the CLI runs the program in its own process
def test_preview_writes_markdown_or_raw_mermaid(tmp_path, capsys):
    page, raw = tmp_path / "docs" / "arch.md", tmp_path / "arch.mmd"
    for target in (page, raw):
        assert (
            preview.main(["dev", "--project-dir", str(PROGRAM), "--quiet", "--no-policies", "--diagram", str(target)])
            == 0
        )
    assert f"diagram: wrote {raw}" in capsys.readouterr().out
    text = page.read_text()
    assert text.startswith(f"<!-- Generated by `python -m stacks.preview dev --diagram {page}`")
    assert "```mermaid\nflowchart LR\n" in text
    parse(text.split("```mermaid\n", 1)[1].split("```", 1)[0])
    assert raw.read_text() == render_mermaid(run_here(PROGRAM, "dev"))
    assert render_markdown(run_here(PROGRAM, "dev"), command=f"python -m stacks.preview dev --diagram {page}") == text
