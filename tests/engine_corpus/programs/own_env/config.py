"""The team's own `config` module: the program must import this one, not anything of the engine's."""

import pulumi

REPLICAS = int(pulumi.Config().require("replicas"))
