"""Strings of the portfolio pages."""

EN: dict[str, str] = {}

KO: dict[str, str] = {}
