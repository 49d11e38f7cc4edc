"""The `edge-agent` command line: the entry point and its sub-commands."""
