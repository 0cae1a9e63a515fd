"""The `aiinfra` command: `aiinfra preview ENV [--project-dir DIR] [--json FILE] [--stack-file PATH] ...`.

Runs the program `pulumi up` would run (the project's `Pulumi.yaml` `main`), with the stack's `Pulumi.<env>.yaml`,
under the offline engine; prints the resource tree and a summary, the cost estimate, and the policy pack's verdict
(run over the engine's analyzer protocol). In the aiinfra repository `python -m stacks.preview ENV` is the same
command with the repository as the default project.

Exit codes: 0 ok, 1 mandatory policy violations, 2 config or usage error, 3 the program itself failed (its error
and its own frames are printed).

Outputs of new resources (`--semantics`): `up` (the default) fabricates what `pulumi up` leaves behind (ARM ids,
principal ids, endpoints), so every `apply` of the program runs and the pack judges the environment as it will be;
`preview` leaves them unknown, as `pulumi preview --policy-pack` in CI shows them (an `apply` on an unknown does not
run; a policy sees unknowns). The default is `up` because the preview's purpose is the environment a deploy leaves
behind, and its cost and diagram need the resources every `apply` creates; run `--semantics preview` too to see what
a CI gate will see.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any

from . import EngineError, Plan, ProgramError, ProgramFailure, run_program
from .analyzer import add_policy_arguments, run_policy_step
from .cost import PriceTableError, estimate, load_price_table, render_cost
from .diagram import write_diagram
from .monitor import SEMANTICS, STACK_REFERENCE_FLAG
from .report import render_summary, render_tree
from .runner import DEFAULT_SEMANTICS

# aiinfra's own pack: the folder of the `aiinfra.policies` package (PulumiPolicy.yaml, __main__.py, config/).
AIINFRA_PACK = Path(__file__).resolve().parent.parent / "policies"
EXIT_OK, EXIT_POLICY, EXIT_USAGE, EXIT_PROGRAM = 0, 1, 2, 3


def _parser(prog: str, default_project: Path) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Preview an environment offline: resource tree, policies and cost, with no Pulumi CLI or Azure.",
    )
    parser.add_argument("env", help="stack / environment name, e.g. dev, test, prd")
    parser.add_argument("--json", metavar="FILE", type=Path, help="write the whole plan as JSON to FILE ('-' for stdout)")
    parser.add_argument("--stack-file", metavar="PATH", type=Path,
                        help="use this stack config file instead of Pulumi.<env>.yaml")
    parser.add_argument("--project-dir", metavar="DIR", type=Path, default=default_project,
                        help=f"Pulumi project to run (default: {default_project})")
    parser.add_argument("--quiet", action="store_true", help="print only the summary, not the resource tree")
    parser.add_argument("--semantics", choices=SEMANTICS, default=DEFAULT_SEMANTICS,
                        help="outputs of new resources: 'up' fabricates what `pulumi up` leaves behind (default), "
                             "'preview' leaves them unknown as `pulumi preview` in CI does")
    parser.add_argument(STACK_REFERENCE_FLAG, metavar="STACK=FILE", action="append", default=[],
                        dest="stack_references",
                        help="outputs of a stack the program reads with StackReference: a plan JSON this tool wrote "
                             "for it, or `pulumi stack output --json` (repeatable)")
    add_policy_arguments(parser)  # policies: --policy-pack, --policy-pack-config, --no-policies
    parser.add_argument("--prices", metavar="FILE", type=Path, action="append",
                        help="price table(s) in the Azure Retail Prices API's shape, replacing the built-in one "
                             "(repeatable; later files win; default: $AIINFRA_PRICES, else engine/prices/)")
    parser.add_argument("--diagram", metavar="FILE", type=Path,
                        help="write a Mermaid diagram of the environment to FILE (.md: a Markdown page GitHub renders)")
    return parser


def write_json(document: dict[str, Any], target: Path) -> None:
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if str(target) == "-":
        sys.stdout.write(text)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def preview(argv: list[str] | None = None, *, prog: str = "aiinfra preview",
            default_project: Path | None = None) -> int:
    """`aiinfra preview`: one stack of a Pulumi project, offline. Returns the exit code."""
    args = _parser(prog, default_project or Path.cwd()).parse_args(argv)
    if args.policy_pack is None and not (Path(args.project_dir) / "policies" / "PulumiPolicy.yaml").is_file():
        # A team's own program without a pack of its own is judged by aiinfra's pack (and its <env>.json config).
        args.policy_pack = AIINFRA_PACK
    try:
        prices = load_price_table(args.prices)
    except PriceTableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    references: dict[str, Path] = {}
    for item in args.stack_references:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            print(f"error: {STACK_REFERENCE_FLAG} {item}: expected STACK=FILE, e.g. acme/network/prd=network-prd.json",
                  file=sys.stderr)
            return EXIT_USAGE
        references[name] = Path(path)
    try:
        plan: Plan = run_program(args.project_dir, args.env, args.stack_file, semantics=args.semantics,
                                 stack_references=references)
    except ProgramFailure as exc:
        print(f"error: the program failed\n{exc}", file=sys.stderr)
        return EXIT_PROGRAM
    except (EngineError, ProgramError) as exc:
        message = str(exc)
        if args.stack_file is not None:
            # The program names the file `pulumi up` would read; here the user gave another one.
            message = message.replace(f"Pulumi.{args.env}.yaml", str(args.stack_file))
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE

    document: dict[str, Any] = {"plan": plan.as_json()}
    out = sys.stderr if str(args.json) == "-" else sys.stdout
    print(f"Offline preview of stack '{plan.stack}' (project {plan.project}, program {plan.program}/)\n", file=out)
    if not args.quiet:
        print(render_tree(plan) + "\n", file=out)
    print("Resources by type:\n" + render_summary(plan), file=out)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=out)

    cost = estimate(plan, prices)
    print("\n" + render_cost(cost, items=not args.quiet), file=out)
    document["cost"] = cost.as_json()
    if args.diagram:
        write_diagram(plan, args.diagram, command=f"{prog} {args.env} --diagram {args.diagram}")
        print(f"diagram: wrote {args.diagram}", file=out)

    # The CrossGuard pack over the plan, as `pulumi preview --policy-pack` runs it.
    exit_code = run_policy_step(args, plan, document, out)
    if exit_code == EXIT_USAGE:
        return EXIT_USAGE
    if args.json:
        write_json(document, args.json)
    return exit_code


COMMANDS = {"preview": preview}


def exit_with(code: int) -> None:
    """Exit without the interpreter's last GC passes: the run leaves hundreds of thousands of objects behind (the
    SDK's modules); frozen, they are out of the collector's sight, which saves about a second at exit."""
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """The `aiinfra` console script: `aiinfra COMMAND ...`."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        known = ", ".join(COMMANDS)
        print(f"usage: aiinfra {{{known}}} ...  (aiinfra COMMAND --help for its options)",
              file=sys.stdout if argv and argv[0] in ("-h", "--help") else sys.stderr)
        exit_with(EXIT_OK if argv and argv[0] in ("-h", "--help") else EXIT_USAGE)
    exit_with(COMMANDS[argv[0]](argv[1:]))


if __name__ == "__main__":
    main()
