"""Schedulers decide which trial runs next and whether a reporting trial goes on."""
