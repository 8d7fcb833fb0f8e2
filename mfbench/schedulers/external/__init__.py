"""Third-party optimizers driven through the :class:`~mfbench.schedulers.base.Scheduler` interface.

:mod:`.base` holds what every adapter shares (importing an optional library with an
actionable error, keeping proposals inside a finite table and free of duplicates); one
module per library maps that library's ask/tell loop onto ours. docs/third-party.md says
what maps exactly and what does not.
"""
