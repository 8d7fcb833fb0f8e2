"""Typed configuration: the top-level schema and validation of the config groups."""
