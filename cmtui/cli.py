"""Command-line interface (placeholder until the CLI lands in this same series)."""


def main() -> int:
    """Entry point of the `cmtui` console script."""
    return 0
