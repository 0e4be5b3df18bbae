"""Strings of the gallery pages."""

EN: dict[str, str] = {}

KO: dict[str, str] = {}
