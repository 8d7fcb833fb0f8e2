"""Results: in-run recording, the on-disk store, and analysis."""
