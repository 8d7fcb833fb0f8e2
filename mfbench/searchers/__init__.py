"""Searchers propose new configurations; schedulers decide what runs."""
