"""The team's own `engine` module (a name the offline engine also uses)."""

NAME = "edge-engine"
