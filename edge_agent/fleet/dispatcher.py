"""Runs one validated command against a `CommandTarget` and returns its result.

Every way a command can fail ends as CommandFailed with a code and a reason naming the
problem, which the receiver turns into a failed reply; nothing is swallowed.
"""

from __future__ import annotations

import base64
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict

from pydantic import BaseModel, ValidationError

from edge_agent.errors import EdgeAgentError
from edge_agent.fleet import config_ops
from edge_agent.fleet.commands import (
    COMMANDS,
    CameraArgs,
    FetchModelArgs,
    GeometryArgs,
    GetConfigArgs,
    PatchConfigArgs,
    RebuildEnginesArgs,
    RemoveCameraArgs,
    RestartArgs,
    RevertConfigArgs,
    SetConfigArgs,
    SetLogLevelArgs,
    SetPowerModeArgs,
    SnapshotArgs,
)
from edge_agent.fleet.errors import CommandFailed, validation_reason
from edge_agent.fleet.health_gate import apply_checked
from edge_agent.fleet.target import CommandTarget, Progress

logger = logging.getLogger(__name__)

_HISTORY = 8  # configurations remembered for revert_config


@dataclass(frozen=True)
class DispatchOptions:
    """Device-side policy of the command handlers."""

    snapshots_enabled: bool = False
    """Images never leave the device unless the owner turned this on."""
    health_poll_s: float = 0.5
    health_settle_s: float = 0.0
    """Healthy must be seen at least this long after applying (a camera gets to open)."""



class CommandDispatcher:
    """Command name -> handler; the handlers only call the target."""

    def __init__(self, target: CommandTarget, options: DispatchOptions = DispatchOptions()) -> None:
        self._target = target
        self._options = options
        self._history: "OrderedDict[str, Dict[str, Any]]" = OrderedDict()
        self._handlers: Dict[str, Callable[[Any, Progress], Dict[str, Any]]] = {
            "ping": lambda a, p: {"card": self._target.card().model_dump()},
            "rebirth": self._rebirth,
            "get_config": self._get_config,
            "set_config": self._set_config,
            "patch_config": self._patch_config,
            "revert_config": self._revert_config,
            "reload": lambda a, p: {"live": self._target.reload_from_disk()},
            "restart": self._restart,
            "set_power_mode": self._set_power_mode,
            "rebuild_engines": self._rebuild_engines,
            "fetch_model": self._fetch_model,
            "add_camera": lambda a, p: self._camera(a, p, add=True),
            "update_camera": lambda a, p: self._camera(a, p, add=False),
            "remove_camera": self._remove_camera,
            "set_zones": lambda a, p: self._geometry(a, p, "zones"),
            "set_lines": lambda a, p: self._geometry(a, p, "lines"),
            "set_log_level": self._set_log_level,
            "snapshot": self._snapshot,
        }
        missing = set(COMMANDS) - set(self._handlers)
        if missing:
            raise RuntimeError(f"commands without a handler: {sorted(missing)}")

    def parse_args(self, command: str, args: Dict[str, Any]) -> BaseModel:
        """The typed arguments, or CommandFailed naming the unknown command / bad field."""
        entry = COMMANDS.get(command)
        if entry is None:
            raise CommandFailed(
                "unknown_command",
                f"command: unknown {command[:64]!r}; known: {', '.join(sorted(COMMANDS))}",
            )
        try:
            return entry[0].model_validate(args)
        except ValidationError as err:
            raise CommandFailed("invalid_args", validation_reason(err, "args")) from None

    def run(self, command: str, args: BaseModel, progress: Progress) -> Dict[str, Any]:
        """Execute; the result goes into the done reply."""
        try:
            return self._handlers[command](args, progress)
        except CommandFailed:
            raise
        except EdgeAgentError as err:
            fix = f" (fix: {err.fix})" if err.fix else ""
            raise CommandFailed("error", err.problem + fix) from None
        except NotImplementedError as err:
            reason = str(err) or f"{command} is not supported here"
            raise CommandFailed("unsupported", reason) from None

    # -- handlers ---------------------------------------------------------------------------

    def _rebirth(self, args: Any, progress: Progress) -> Dict[str, Any]:
        self._target.rebirth()
        return {}

    def _get_config(self, args: GetConfigArgs, progress: Progress) -> Dict[str, Any]:
        config = self._target.current_config()
        unknown = [s for s in args.sections if s not in config]
        if unknown:
            raise CommandFailed(
                "invalid_args", f"args.sections: unknown {unknown}; known: {sorted(config)}"
            )
        chosen = {k: v for k, v in config.items() if not args.sections or k in args.sections}
        return {"config": chosen, "revision": config_ops.revision(config)}

    def _apply(
        self, config: Dict[str, Any], timeout_s: float, progress: Progress
    ) -> Dict[str, Any]:
        before = self._target.current_config()
        previous = config_ops.revision(before)
        self._remember(before)
        progress(10.0, f"validating and applying (previous revision {previous})")
        changed = apply_checked(
            self._target,
            config,
            timeout_s,
            progress,
            poll_s=self._options.health_poll_s,
            settle_s=self._options.health_settle_s,
        )
        now = self._target.current_config()
        self._remember(now)
        return {"live": changed, "revision": config_ops.revision(now), "previous": previous}

    def _remember(self, config: Dict[str, Any]) -> None:
        key = config_ops.revision(config)
        self._history.pop(key, None)
        self._history[key] = config
        while len(self._history) > _HISTORY:
            self._history.popitem(last=False)

    def _set_config(self, args: SetConfigArgs, progress: Progress) -> Dict[str, Any]:
        return self._apply(args.config, args.health_timeout_s, progress)

    def _patch_config(self, args: PatchConfigArgs, progress: Progress) -> Dict[str, Any]:
        merged = config_ops.merge(self._target.current_config(), args.patch)
        return self._apply(merged, args.health_timeout_s, progress)

    def _revert_config(self, args: RevertConfigArgs, progress: Progress) -> Dict[str, Any]:
        config = self._history.get(args.revision)
        if config is None:
            raise CommandFailed(
                "invalid_args",
                f"args.revision: {args.revision} is not among the last {_HISTORY} configs "
                "this device ran since it started",
            )
        return self._apply(config, 30.0, progress)

    def _restart(self, args: RestartArgs, progress: Progress) -> Dict[str, Any]:
        self._target.restart(args.delay_s)
        return {"restart_in_s": args.delay_s}

    def _set_power_mode(self, args: SetPowerModeArgs, progress: Progress) -> Dict[str, Any]:
        return {"mode": self._target.set_power_mode(args.mode)}

    def _rebuild_engines(self, args: RebuildEnginesArgs, progress: Progress) -> Dict[str, Any]:
        return {"engines": self._target.rebuild_engines(list(args.models), progress)}

    def _fetch_model(self, args: FetchModelArgs, progress: Progress) -> Dict[str, Any]:
        path = self._target.fetch_model(args.name, args.url, args.sha256, progress,
                                        args.calibration_url)
        return {"path": path}

    def _camera(self, args: CameraArgs, progress: Progress, add: bool) -> Dict[str, Any]:
        config = config_ops.upsert_camera(self._target.current_config(), args.camera, add)
        return self._apply(config, args.health_timeout_s, progress)

    def _remove_camera(self, args: RemoveCameraArgs, progress: Progress) -> Dict[str, Any]:
        config = config_ops.remove_camera(self._target.current_config(), args.camera_id)
        return self._apply(config, 30.0, progress)

    def _geometry(self, args: GeometryArgs, progress: Progress, kind: str) -> Dict[str, Any]:
        config = config_ops.set_geometry(
            self._target.current_config(), args.camera_id, kind, list(args.items)
        )
        return self._apply(config, 30.0, progress)

    def _set_log_level(self, args: SetLogLevelArgs, progress: Progress) -> Dict[str, Any]:
        self._target.set_log_level(args.level)
        return {"level": args.level}

    def _snapshot(self, args: SnapshotArgs, progress: Progress) -> Dict[str, Any]:
        if not self._options.snapshots_enabled:
            raise CommandFailed(
                "unsupported",
                "snapshots are disabled on this device (images leave it only when its owner "
                "sets fleet snapshots_enabled = true)",
            )
        jpeg = self._target.snapshot(args.camera_id)
        if jpeg is None:
            raise CommandFailed("error", f"camera {args.camera_id!r} has no frame yet")
        return {"jpeg_base64": base64.b64encode(jpeg).decode("ascii")}
