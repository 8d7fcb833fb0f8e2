"""The data command (``python -m mfbench.data``): download, convert, verify and export blackboxes."""
