"""Running under systemd: readiness, status, watchdog, reload and journal integration.

Everything here is inert when the agent is not started by systemd (no NOTIFY_SOCKET), so the
same daemon runs from a terminal, in tests and in a container unchanged.
"""
