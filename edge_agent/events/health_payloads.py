"""Telemetry sections for the device's power/thermal state and the last configuration reload.

Why typed: DeviceTelemetry.read() returns a plain dict; giving each reading a pydantic model
puts it in docs/asyncapi.yaml with units, so a fleet tool can rely on the field names. Every
reading is optional because most are absent off Jetson (and some on smaller Jetsons): a
missing reading is null or an empty map, never a made-up number.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from pydantic import Field

from edge_agent.events.payloads import _Payload


class PowerModeTelemetry(_Payload):
    """The nvpmodel power mode in force."""

    id: int = Field(..., ge=0, description="nvpmodel mode id.")
    name: str = Field("", description="Mode name from /etc/nvpmodel.conf ('' when unknown).")
    budget_w: Optional[float] = Field(None, description="Power budget of the mode, watts.")
    uncapped: bool = Field(False, description="True for MAXN modes (no power budget).")


class GpuTelemetry(_Payload):
    """Integrated GPU load and clock (devfreq)."""

    load_pct: Optional[float] = Field(None, ge=0.0, description="GPU load, percent.")
    freq_hz: Optional[float] = Field(None, ge=0.0, description="Current GPU clock, Hz.")
    max_freq_hz: Optional[float] = Field(None, ge=0.0, description="Highest allowed clock, Hz.")


class ThrottleTelemetry(_Payload):
    """Over-current (soctherm_oc) throttling events."""

    oc_events: Dict[str, int] = Field(
        default_factory=dict, description="Event counter per over-current channel."
    )
    throttled: bool = Field(False, description="A counter moved since the previous sample.")


class DeviceHealthTelemetry(_Payload):
    """Power mode, temperatures, power rails, GPU and throttling (Jetson sysfs)."""

    power_mode: Optional[PowerModeTelemetry] = Field(
        None, description="Power mode in force; null when it cannot be read."
    )
    temps_c: Dict[str, Optional[float]] = Field(
        default_factory=dict, description="Degrees Celsius per thermal zone type."
    )
    max_temp_c: Optional[float] = Field(
        None, description="Hottest live zone (PMIC zones ignored), degrees Celsius."
    )
    rails_mw: Dict[str, Optional[float]] = Field(
        default_factory=dict, description="Milliwatts per INA3221 power rail."
    )
    power_mw: Optional[float] = Field(
        None, description="Board input power, milliwatts (input rail, else sum of rails)."
    )
    gpu: Optional[GpuTelemetry] = Field(None, description="GPU load and clock; null off Jetson.")
    throttle: Optional[ThrottleTelemetry] = Field(
        None, description="Throttling counters; null where the device has none."
    )


class ReloadTelemetry(_Payload):
    """Outcome of the most recent SIGHUP reload."""

    ok: bool = Field(..., description="False: the new config was refused, the old one runs.")
    ts: float = Field(..., ge=0.0, description="When the reload ran, UTC epoch seconds.")
    error: str = Field("", description="Why the reload was refused ('' when ok).")
    live: List[str] = Field(default_factory=list, description="Sections applied live.")
    restart_required: List[str] = Field(
        default_factory=list, description="Sections changed that need a restart to apply."
    )


def device_health(reading: Mapping[str, Any]) -> DeviceHealthTelemetry:
    """DeviceTelemetry.read()'s dict as a typed section ({} sections become null)."""
    power_mode = reading.get("power_mode") or None
    gpu = reading.get("gpu") or None
    throttle = reading.get("throttle") or None
    return DeviceHealthTelemetry(
        power_mode=PowerModeTelemetry(**power_mode) if power_mode else None,
        temps_c=dict(reading.get("temps_c") or {}),
        max_temp_c=reading.get("max_temp_c"),
        rails_mw=dict(reading.get("rails_mw") or {}),
        power_mw=reading.get("power_mw"),
        gpu=GpuTelemetry(**gpu) if gpu else None,
        throttle=ThrottleTelemetry(**throttle) if throttle else None,
    )
