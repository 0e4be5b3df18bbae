"""Strings of the jobs pages."""

EN: dict[str, str] = {}

KO: dict[str, str] = {}
