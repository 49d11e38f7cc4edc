"""`edge-agent selftest`: gather the device facts, run every check, print the report."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional

from edge_agent import __version__
from edge_agent.demo.local_broker import LocalBroker
from edge_agent.device.identity import DeviceIdentity
from edge_agent.errors import EdgeAgentError
from edge_agent.selftest.report import FAIL, INFO, PASS, SKIP, Line, render, verdict_of
from edge_agent.settings import AgentSettings

Say = Callable[[str], None]


@dataclass(frozen=True)
class SelftestOptions:
    """What the command line asked for."""

    workdir: Path
    config: Optional[Path] = None
    duration_s: float = 60.0
    notify_s: float = 15.0
    clip: Optional[Path] = None
    models_dir: Optional[Path] = None
    change_power_mode: bool = False
    fetch_models: bool = False
    root: Path = Path("/")
    profile: str = ""


def _header(identity: DeviceIdentity, profile_name: str, power_mode: str) -> List[str]:
    import numpy

    jetpack = f"L4T {identity.l4t} (JetPack {identity.jetpack or '?'})" if identity.l4t else (
        "not a Jetson")
    return [f"edge-agent {__version__}, Python {platform.python_version()}, numpy "
            f"{numpy.__version__}, {platform.machine()}",
            f"device {identity.device_id} ({identity.model or identity.kind}), {jetpack}",
            f"TensorRT {identity.tensorrt or 'not installed'}, CUDA {identity.cuda or 'none'}",
            f"profile {profile_name}, power mode {power_mode or 'n/a'}"]


def _prepare_config(options: SelftestOptions, backend: str, say: Say) -> Path:
    """The user's config, or one written into the work folder (sample clip, stand-ins as
    needed, a private mosquitto when one is installed)."""
    if options.config is not None:
        return options.config
    from edge_agent.capture.sample_footage import ensure_sample
    from edge_agent.demo.local_broker import free_port
    from edge_agent.models.standin import write_standin
    from edge_agent.models.store import load_model_record
    from edge_agent.selftest.config import selftest_config

    workdir = options.workdir
    clip = options.clip or ensure_sample(workdir / "footage", log=say).path
    models_dir = options.models_dir or workdir / "models"
    names = ["peoplesemsegnet_shuffleseg", "peoplesemsegnet_vanilla_unet", "peoplenet",
             "reidentificationnet"]
    if options.fetch_models:
        from edge_agent.models.fetch import fetch_or_standin

        fetch_or_standin(names, models_dir, say)
    for name in names:
        try:
            load_model_record(models_dir, name)
        except EdgeAgentError:
            write_standin(name, models_dir)
            say(f"{name}: stand-in written to {models_dir} (fetch the real one with "
                f"`edge-agent models fetch {name}`)")
    port = free_port()
    config = workdir / "agent.toml"
    config.write_text(selftest_config(Path(clip), models_dir, workdir, "127.0.0.1", port,
                                      backend, workdir / "engines"), encoding="utf-8")
    return config


def _doctor_lines(identity: DeviceIdentity, want_tensorrt: bool, root: Path) -> List[Line]:
    from edge_agent.service.doctor import software_checks

    verdicts = {"ok": PASS, "warn": INFO, "fail": FAIL}
    return [Line(c.name, verdicts[c.status], c.detail)
            for c in software_checks(identity, want_tensorrt, root)]


def _engine_section(settings: AgentSettings, identity: DeviceIdentity, profile: object,
                    power_mode: str, semseg_name: str, say: Say) -> List[Line]:
    from edge_agent.inference.tensorrt_api import TensorRtToolkit
    from edge_agent.models.store import load_model_record
    from edge_agent.selftest.engines import engine_lines

    try:
        toolkit = TensorRtToolkit()
    except (ImportError, EdgeAgentError) as exc:
        problem = exc.problem if isinstance(exc, EdgeAgentError) else str(exc)
        return [Line("tensorrt", FAIL, f"TensorRT path not usable: {problem}")]
    names = [semseg_name]
    if settings.models.tracking.enabled:
        names += [settings.models.tracking.peoplenet_model]
        names += [settings.models.tracking.reid_model] if settings.models.tracking.reid_model \
            else []
    records = [load_model_record(settings.models.dir, name) for name in names]
    return engine_lines(identity, profile, power_mode, records, toolkit,  # type: ignore[arg-type]
                        settings.models.engine_dir, say, semseg_name)


def run_selftest(options: SelftestOptions, say: Say) -> str:
    """Every check; returns the report (Markdown)."""
    from edge_agent.device.tuning import detect_device
    from edge_agent.selftest.agent_run import agent_lines, run_agent_for
    from edge_agent.selftest.notify import notify_lines
    from edge_agent.settings.config_file import load_settings

    options.workdir.mkdir(parents=True, exist_ok=True)
    device = detect_device(options.root, options.profile)
    identity, profile = device.identity, device.choice.profile
    local: Optional[LocalBroker] = None
    config_path = _prepare_config(options, profile.backend, say)
    settings = load_settings(config_path)
    if options.config is None:
        local = _start_broker(options.workdir, settings, say)
    want_tensorrt = settings.models.backend == "tensorrt"
    variant = settings.models.semseg.variant
    semseg_name = "peoplesemsegnet_" + (profile.semseg_variant if variant == "auto" else variant)
    rate = settings.models.semseg.rate_hz
    semseg_rate_hz = profile.semseg_rate_for(device.power_mode) if rate == "auto" else float(rate)
    lines = _doctor_lines(identity, want_tensorrt, options.root)
    try:
        if want_tensorrt:
            say("building or loading every enabled engine (minutes per engine on a first run)")
            lines += _engine_section(settings, identity, profile, device.power_mode,
                                     semseg_name, say)
        else:
            lines.append(Line("engines", SKIP, "models.backend = \"onnxruntime\" (CPU path): "
                              "no TensorRT engines to build"))
        say(f"running the agent for {options.duration_s:g} s")
        run = run_agent_for(settings, options.duration_s)
        warmup_s = min(20.0, options.duration_s / 3)
        lines += agent_lines(run, want_tensorrt, semseg_name, semseg_rate_hz,
                             settings.models.tracking.rate_hz, warmup_s)
        say(f"running `edge-agent run` under a notify socket for {options.notify_s:g} s")
        lines += notify_lines(config_path, options.notify_s)
    except EdgeAgentError as err:
        lines.append(Line("agent run", FAIL, f"{err.problem} ({err.fix})"))
    finally:
        if local is not None:
            local.stop()
    lines += _power_section(options, identity, device.power_mode, profile)
    header = _header(identity, profile.name, device.power_mode)
    if config_path != options.config:
        header.append(f"config {config_path} (sample clip, models in {settings.models.dir})")
    return render(header, lines)


def _start_broker(workdir: Path, settings: AgentSettings, say: Say) -> Optional[LocalBroker]:
    """A private mosquitto on the config's port; None (the agent buffers) when none exists."""
    broker = LocalBroker(workdir / "broker", port=settings.mqtt.port)
    try:
        broker.start()
    except EdgeAgentError as err:
        say(f"no local broker ({err.problem}): events stay in the outbox")
        return None
    return broker


def _power_section(options: SelftestOptions, identity: DeviceIdentity, power_mode: str,
                   profile: object) -> List[Line]:
    from edge_agent.device.identity import JETSON_KINDS
    from edge_agent.device.tuning import detect_device
    from edge_agent.powermode import CONF_PATH, REQUEST_DIR, RESULT_DIR
    from edge_agent.selftest.power import power_lines

    is_jetson = bool(identity.soc) or identity.kind in JETSON_KINDS
    table = None
    if is_jetson and options.change_power_mode:
        from edge_agent.powermode.request import read_table

        try:
            table = read_table(Path(CONF_PATH))
        except EdgeAgentError as err:
            return [Line("power mode", FAIL, err.problem)]
    return power_lines(is_jetson, power_mode, profile,  # type: ignore[arg-type]
                       options.change_power_mode, table,
                       lambda: detect_device(options.root, options.profile).power_mode,
                       Path(REQUEST_DIR), Path(RESULT_DIR))


__all__ = ["SelftestOptions", "run_selftest", "verdict_of"]
