"""Subcommands of this stage (filled in by its issue)."""


def register(sub) -> None:
    """Add this stage's subcommands to `zwgk`."""
