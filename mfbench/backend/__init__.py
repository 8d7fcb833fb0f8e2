"""Backends execute trials; the simulator does so in simulated time."""
