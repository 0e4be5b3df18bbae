"""The `promptcanvas` command (Typer + Rich)."""
