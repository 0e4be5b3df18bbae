"""Strings of the settings pages."""

EN: dict[str, str] = {}

KO: dict[str, str] = {}
