"""Entry points: REST API, web pages, CLI."""
