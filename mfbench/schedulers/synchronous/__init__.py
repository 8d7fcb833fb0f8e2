"""The synchronous Hyperband family: bracket bookkeeping, SyncHB / SyncSH (+ BOHB), DEHB."""
