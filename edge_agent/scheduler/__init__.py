"""Power-aware scheduling: which task runs how often, where, and with which model variant.

Pure logic (no threads, no I/O except reading the latency tables and, in signals.py, sysfs
under a root path). See docs/scheduler.md.
"""
