"""Apply the device profile to the agent's settings where the config asks for it ('auto').

The same config file should run well on a 10 W Nano and a 60 W AGX Orin, so two semseg
settings may say `"auto"`: `variant` takes the profile's model variant (ShuffleSeg on Nano,
vanilla UNet on Orin) and `rate_hz` the profile's rate for the current nvpmodel power mode.
Explicit values always win. The device is identified only when something needs it (an 'auto'
or the TensorRT backend), so the CPU path with explicit values reads nothing; the chosen
profile and why (an unknown Jetson gets the conservative one, named) is logged once per
resolution, at start-up and on every reload (a power-mode change then updates the rate).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from edge_agent.device.identity import JETSON_KINDS, DeviceIdentity, read_identity
from edge_agent.device.power_mode import PowerModeReader, Query
from edge_agent.device.profiles import ProfileChoice, load_profiles, select_profile
from edge_agent.device.sysfs import WarnOnce
from edge_agent.settings import AgentSettings

logger = logging.getLogger(__name__)

AUTO = "auto"


@dataclass(frozen=True)
class DeviceContext:
    """What the agent runs on, the profile chosen for it and the current power mode name."""

    identity: DeviceIdentity
    choice: ProfileChoice
    power_mode: str = ""  # nvpmodel mode name, '' off Jetson or when unreadable

    def describe(self) -> str:
        """One line for the log: profile, why, power mode."""
        mode = f", power mode {self.power_mode}" if self.power_mode else ""
        return f"device profile {self.choice.profile.name!r} ({self.choice.reason}{mode})"


def detect_device(root: Path = Path("/"), override: str = "",
                  nvpmodel_query: Optional[Query] = None) -> DeviceContext:
    """Identify the device under `root`, select its profile, read the power mode."""
    identity = read_identity(root)
    choice = select_profile(identity, load_profiles(), override)
    mode = ""
    if identity.soc or identity.kind in JETSON_KINDS:
        reading = PowerModeReader(root, WarnOnce(logger), nvpmodel_query).read()
        mode = str(reading.get("name") or "")
    return DeviceContext(identity, choice, mode)


def apply_profile(settings: AgentSettings, device: DeviceContext) -> AgentSettings:
    """`settings` with every 'auto' replaced by the profile's value; explicit values kept."""
    semseg = settings.models.semseg
    profile = device.choice.profile
    updates: Dict[str, object] = {}
    said: List[str] = []
    if semseg.variant == AUTO:
        updates["variant"] = profile.semseg_variant
        said.append(f"semseg variant auto -> {profile.semseg_variant}")
    if semseg.rate_hz == AUTO:
        rate_hz = profile.semseg_rate_for(device.power_mode)
        updates["rate_hz"] = rate_hz
        known = device.power_mode.upper() in {k.upper() for k in profile.rates_by_power_mode}
        basis = f"power mode {device.power_mode}" if known else "the profile's default"
        said.append(f"semseg rate auto -> {rate_hz:g} Hz ({basis})")
    log = logger.warning if device.choice.fallback else logger.info
    log("%s%s", device.describe(), ": " + "; ".join(said) if said else "")
    if not updates:
        return settings
    models = settings.models.model_copy(update={"semseg": semseg.model_copy(update=updates)})
    return settings.model_copy(update={"models": models})


def resolve_settings(settings: AgentSettings, root: Path = Path("/")) -> AgentSettings:
    """Resolve 'auto' values against the device under `root` (no-op when none is 'auto')."""
    semseg = settings.models.semseg
    if AUTO not in (semseg.variant, semseg.rate_hz):
        return settings
    return apply_profile(settings, detect_device(root, settings.device.profile))


def semseg_rate_hz(settings: AgentSettings) -> float:
    """The resolved semseg rate; 'auto' here means resolve_settings() was skipped (a bug)."""
    rate_hz = settings.models.semseg.rate_hz
    if rate_hz == AUTO or isinstance(rate_hz, str):
        raise RuntimeError("models.semseg.rate_hz is still 'auto': call resolve_settings()")
    return float(rate_hz)
