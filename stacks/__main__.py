"""The program `pulumi up` runs: load this stack's config, build the environment, export its outputs."""

import sys
from pathlib import Path

# `main: stacks/` runs this directory; the library next to it must be importable too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi  # noqa: E402

from stacks.config import load_platform_config  # noqa: E402
from stacks.environment import build_environment  # noqa: E402

environment = build_environment(load_platform_config())
for key, value in environment.outputs.items():
    pulumi.export(key, value)
