"""`edge-agent selftest`: one command that proves the hardware path on a real Jetson.

It builds (or reuses) every enabled engine, measures each one directly (pinned-memory
allocations per inference, latency), runs the agent for about a minute on the sample clip or
the configured cameras (memory growth, latency against the device profile), reads the power
mode (and, when allowed, changes it and checks the re-plan), and runs `edge-agent run` once
under a notify socket as systemd would (READY=1, WATCHDOG=1 spacing, STOPPING=1). The report
is a Markdown table meant to be pasted into an issue as it is. Off a Jetson it runs the same
checks on the CPU path and marks the hardware-only ones SKIP.
"""
