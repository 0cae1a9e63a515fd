"""Offline preview of one of this repository's environments: `python -m stacks.preview ENV [options]`.

The same command as `aiinfra preview ENV`, with this repository (Pulumi.yaml -> stacks/) as the default project.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiinfra.engine.cli import EXIT_OK, EXIT_POLICY, EXIT_USAGE, exit_with, preview  # noqa: E402, F401  (exit codes re-exported)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    return preview(argv, prog="python -m stacks.preview", default_project=PROJECT_ROOT)


if __name__ == "__main__":
    exit_with(main())
