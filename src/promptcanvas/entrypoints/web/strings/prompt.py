"""Strings of the prompt pages."""

EN: dict[str, str] = {}

KO: dict[str, str] = {}
