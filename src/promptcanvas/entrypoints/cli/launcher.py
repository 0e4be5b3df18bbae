"""What the `promptcanvas` console script imports: nothing heavy until the command runs.

Worker processes (the import's loader pool) start by importing the program's main script
again. The script pip writes imports its entry point at the top, so pointing it at the CLI
itself made every worker import the whole application first (1.75 s of CPU apiece).
"""

from __future__ import annotations


def main() -> None:
    """Run the CLI."""
    from promptcanvas.entrypoints.cli.main import app

    app()
