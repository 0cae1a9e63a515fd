"""`python -m aiinfra.engine.cost PLAN.json`: price a saved plan."""

from .cli import main

raise SystemExit(main())
