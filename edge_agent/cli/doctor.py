"""`edge-agent doctor`: device, software, power, heat, engines, broker; non-zero on a blocker.

Registered through cli.COMMAND_MODULES. Reads the config when one is given (or the default file
exists) for the broker address and the models folder; without a config it checks the device only.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, List

from edge_agent.errors import ExitCode

DEFAULT_ENGINE_DIR = Path("/var/cache/edge-agent/engines")  # = models.engine_dir default


def register(subparsers: Any) -> None:
    """Add the `doctor` sub-command."""
    doctor = subparsers.add_parser("doctor", help="check this device and the agent's setup")
    doctor.add_argument("--config", type=Path, default=None,
                        help="TOML config (default /etc/edge-agent/agent.toml if present)")
    doctor.add_argument("--root", type=Path, default=Path("/"),
                        help="filesystem root to inspect (for testing on a captured tree)")
    doctor.add_argument("--engine-dir", type=Path, default=None,
                        help="engine cache (default: the config's models.engine_dir, else "
                        f"{DEFAULT_ENGINE_DIR})")
    doctor.add_argument("--profile", default="", help="device profile name instead of auto")
    doctor.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    """Print every check; exit 1 when any is blocking."""
    from edge_agent.device.identity import JETSON_KINDS, read_identity
    from edge_agent.device.profiles import load_profiles, select_profile
    from edge_agent.device.telemetry import DeviceTelemetry
    from edge_agent.service import doctor
    from edge_agent.settings import DEFAULT_CONFIG_PATH

    identity = read_identity(args.root)
    choice = select_profile(identity, load_profiles(), args.profile)
    checks: List[doctor.Check] = doctor.identity_checks(identity, choice)
    if identity.soc or identity.kind in JETSON_KINDS:  # sysfs telemetry exists on Jetson only
        telemetry = DeviceTelemetry(args.root)
        checks += doctor.telemetry_checks(telemetry.read())
    config = args.config or (DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None)
    settings = None
    if config is not None:
        from edge_agent.settings.config_file import load_settings

        settings = load_settings(config)
    engine_dir = args.engine_dir or (settings.models.engine_dir if settings is not None
                                     else DEFAULT_ENGINE_DIR)
    wants_tensorrt = choice.profile.backend == "tensorrt" or (
        settings is not None and settings.models.backend == "tensorrt")
    checks += doctor.software_checks(identity, wants_tensorrt, args.root)
    if choice.profile.backend == "tensorrt":
        checks += doctor.engine_checks(engine_dir, identity.device_id, identity.tensorrt)
    if settings is not None:
        from edge_agent.service.startup_checks import enabled_model_names

        if settings.models.semseg.variant == "auto":
            semseg = settings.models.semseg.model_copy(
                update={"variant": choice.profile.semseg_variant})
            settings = settings.model_copy(
                update={"models": settings.models.model_copy(update={"semseg": semseg})})
        for name in enabled_model_names(settings):  # the same list `run` loads
            checks.append(doctor.model_check(settings.models.dir, name))
        checks.append(doctor.broker_check(settings.mqtt.host, settings.mqtt.port))
    else:
        checks.append(doctor.Check("config", "warn", "no config file: broker and models "
                                   "not checked (pass --config)"))
    for check in checks:
        print(check.render())
    blocking = [c for c in checks if c.status == "fail"]
    if blocking:
        print(f"{len(blocking)} blocking problem(s)")
        return ExitCode.FAILURE
    return ExitCode.OK
