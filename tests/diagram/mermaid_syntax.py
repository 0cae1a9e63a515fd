"""A strict reader of the Mermaid flowchart subset engine.diagram writes: fails on anything GitHub might not render.

(The diagram was also checked once with Mermaid's own parser; this keeps the checks that matter in CI, offline.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ID = r"[A-Za-z][A-Za-z0-9_]*"
LABEL = r'"[^"\n]*"'
SHAPES = [("([", "])"), ("[(", ")]"), ("{{", "}}"), ("((", "))"), ("[", "]"), ("(", ")"), ("{", "}")]
RESERVED = {"end", "subgraph", "graph", "flowchart", "class", "classDef", "style", "click", "direction", "linkStyle"}
NODE = re.compile(rf"^({ID})(" + "|".join(rf"{re.escape(o)}{LABEL}{re.escape(c)}" for o, c in SHAPES) + r")$")
EDGE = re.compile(rf"^({ID}) (-->|-\.->|-->\|{LABEL}\|) ({ID})$")


@dataclass
class Flowchart:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> label
    subgraphs: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)  # subgraph id -> node ids
    edges: list[tuple[str, str, str]] = field(default_factory=list)
    classes: dict[str, list[str]] = field(default_factory=dict)


def parse(text: str) -> Flowchart:
    lines = text.rstrip("\n").split("\n")
    assert re.fullmatch(r"flowchart (LR|TB|TD|RL|BT)", lines[0]), f"first line: {lines[0]!r}"
    chart, open_subgraphs = Flowchart(), []
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        where = f"line {number}: {raw!r}"
        if match := re.fullmatch(rf"subgraph ({ID})\[({LABEL})\]", line):
            _new_id(chart, match.group(1), where)
            chart.subgraphs[match.group(1)] = match.group(2)
            chart.members[match.group(1)] = []
            open_subgraphs.append(match.group(1))
        elif line == "end":
            assert open_subgraphs, f"{where}: 'end' without a subgraph"
            open_subgraphs.pop()
        elif re.fullmatch(r"direction (LR|TB|TD|RL|BT)", line):
            assert open_subgraphs, f"{where}: direction outside a subgraph"
        elif match := EDGE.match(line):
            chart.edges.append((match.group(1), match.group(2), match.group(3)))
        elif match := re.fullmatch(rf"classDef ({ID}) [a-z-]+:#?[0-9a-zA-Z]+(,[a-z-]+:#?[0-9a-zA-Z]+)*", line):
            chart.classes.setdefault(match.group(1), [])
        elif match := re.fullmatch(rf"class ({ID}(?:,{ID})*) ({ID})", line):
            assert match.group(2) in chart.classes, f"{where}: class used before its classDef"
            chart.classes[match.group(2)] += match.group(1).split(",")
        elif match := NODE.match(line):
            _new_id(chart, match.group(1), where)
            chart.nodes[match.group(1)] = match.group(2)
            if open_subgraphs:
                chart.members[open_subgraphs[-1]].append(match.group(1))
        else:
            raise AssertionError(f"{where}: not a line this flowchart subset allows")
    assert not open_subgraphs, f"subgraphs never closed: {open_subgraphs}"
    defined = set(chart.nodes) | set(chart.subgraphs)
    for a, _, b in chart.edges:
        assert a in defined and b in defined, f"edge {a} -> {b} references an undefined node"
    for name, members in chart.classes.items():
        assert set(members) <= set(chart.nodes), f"class {name} lists undefined nodes {set(members) - set(chart.nodes)}"
    return chart


def _new_id(chart: Flowchart, node_id: str, where: str) -> None:
    assert node_id not in RESERVED, f"{where}: '{node_id}' is a Mermaid keyword"
    assert node_id not in chart.nodes and node_id not in chart.subgraphs, f"{where}: '{node_id}' defined twice"
