"""The running agent: wiring and lifecycle (daemon) and the main loop (runner)."""
