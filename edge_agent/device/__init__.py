"""Knowing the device: identity, power mode, thermals, power rails, GPU load, throttling.

Every reader takes a filesystem root (``/`` on a device, a fixture tree in tests), probes the
files it needs once, and then reads only those; a file that is missing at probe time disables
that one reading with a single warning instead of an exception per sample, because an agent
must keep running on a carrier board whose sensors differ from the devkit's.
"""

from __future__ import annotations
