"""The team's own `stacks` module (a name aiinfra's repository also uses)."""

PREFIX = "edge"
