"""The handlers of `edge-fleet` sub-commands (the parser is in cli.py)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from edge_agent.errors import ConfigError, ExitCode, InputNotFoundError
from edge_agent.fleet.cli import emit
from edge_agent.fleet.client import FleetClient
from edge_agent.fleet.envelope import CommandReply
from edge_agent.fleet.inventory import render, rows, sort_rows
from edge_agent.fleet.paho_link import LinkOptions, parse_broker
from edge_agent.fleet.rollout import Rollout, RolloutPolicy, revert_config_rollback


def link_options(args: argparse.Namespace, client_id: str) -> LinkOptions:
    """Connection settings from the global options."""
    try:
        broker = parse_broker(args.broker)
    except ValueError as err:
        raise ConfigError(str(err), "e.g. --broker 127.0.0.1:1883") from None
    password = ""
    if args.password_file is not None:
        password = _read(args.password_file, "--password-file").strip()
    return LinkOptions(host=broker["host"], port=broker["port"], client_id=client_id,
                       mqtt5=args.mqtt == "5", session_expiry_s=0,
                       username=args.username, password=password)


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputNotFoundError(f"{option} {path}: {err.strerror}", "check the path") from None


def signing_key(args: argparse.Namespace) -> Optional[Tuple[str, bytes]]:
    """(key id, secret) from --key-file 'KEY_ID:HEX'."""
    if args.key_file is None:
        return None
    key_id, _, secret = _read(args.key_file, "--key-file").strip().partition(":")
    try:
        raw = bytes.fromhex(secret)
    except ValueError:
        raw = b""
    if not key_id or len(raw) < 32:
        raise ConfigError(f"--key-file {args.key_file}: expected KEY_ID:HEX with >= 32 bytes",
                          "write it as e.g. k2026:$(openssl rand -hex 32)")
    return key_id, raw


def _client(args: argparse.Namespace, follow: bool = False) -> FleetClient:
    return FleetClient(link_options(args, f"edge-fleet-{time.monotonic_ns()}"), args.prefix,
                       signing_key=signing_key(args), follow_telemetry=follow).start()


def _json_arg(text: str, option: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"{option}: not JSON ({err})", "pass a JSON object, e.g. '{}'") from None
    if not isinstance(value, dict):
        raise ConfigError(f"{option}: must be a JSON object", "wrap the values in {...}")
    return value


def _print_reply(reply: CommandReply) -> None:
    detail = reply.reason or (json.dumps(reply.result)[:200] if reply.result else "")
    pct = f" {reply.progress_pct:.0f}%" if reply.progress_pct is not None else ""
    code = f" [{reply.code}]" if reply.code else ""
    emit(f"{reply.device_id:24s} {reply.state:9s}{pct}{code} {detail}", flush=True)


def cmd_inventory(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        client.wait_devices(quiet_s=args.discover_s)
        items = [r for r in rows(client.devices()) if not args.site or r.site == args.site]
    finally:
        client.stop()
    try:
        items = sort_rows(items, args.sort, args.desc)
    except ValueError as err:
        raise ConfigError(str(err), "pick a listed column") from None
    size = shutil.get_terminal_size((120, 40))
    page_size = args.page_size or max(5, size.lines - 3)
    for line in render(items, size.columns, args.page, page_size):
        emit(line)
    return ExitCode.OK


def cmd_export(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        client.wait_devices(quiet_s=args.discover_s)
        data = [row.as_json() for row in sort_rows(rows(client.devices()), "device")]
    finally:
        client.stop()
    text = json.dumps({"devices": data, "exported_at": time.time()}, indent=2)
    if args.file == "-":
        emit(text)
    else:
        Path(args.file).write_text(text + "\n", encoding="utf-8")
        emit(f"wrote {len(data)} device(s) to {args.file}", file=sys.stderr)
    return ExitCode.OK


def cmd_send(args: argparse.Namespace) -> int:
    command_args = _json_arg(args.args, "--args")
    client = _client(args)
    try:
        if args.site or args.all:
            client.wait_devices(quiet_s=args.discover_s)
        client.on_reply(_print_reply)
        tracker = client.send(args.name, command_args, devices=args.device, site=args.site,
                              everyone=args.all, expires_in_s=args.expires_in_s)
        missing = client.wait(tracker, args.timeout_s)
    finally:
        client.stop()
    finals = [tracker.final(d) for d in tracker.expected]
    failed = [r.device_id for r in finals if r is not None and r.state == "failed"]
    emit(f"{len(tracker.expected) - len(missing) - len(failed)} done, {len(failed)} failed, "
          f"{len(missing)} no reply within {args.timeout_s:g} s"
          + (f": {', '.join(missing[:10])}" if missing else ""))
    return ExitCode.OK if not missing and not failed else ExitCode.FAILURE


def _rollout_command(args: argparse.Namespace) -> Tuple[str, Dict[str, Any]]:
    if args.config is not None:
        text = _read(args.config, "--config")
        if args.config.suffix == ".toml":
            from edge_agent.settings.config_file import read_toml

            patch: Dict[str, Any] = read_toml(args.config)
        else:
            patch = _json_arg(text, f"--config {args.config}")
        return "patch_config", {"patch": patch, "health_timeout_s": args.health_timeout_s}
    if not args.url or not args.sha256:
        raise ConfigError("--model needs --url and --sha256", "add both")
    return "fetch_model", {"name": args.model, "url": args.url, "sha256": args.sha256}


def cmd_rollout(args: argparse.Namespace) -> int:
    command, command_args = _rollout_command(args)
    policy = RolloutPolicy(
        canary_pct=args.canary_pct, wave_pct=args.wave_pct, rate_per_min=args.rate_per_min,
        max_failure_ratio=args.max_failure_ratio, device_timeout_s=args.device_timeout_s,
    )
    client = _client(args)
    try:
        client.wait_devices(quiet_s=args.discover_s)
        views = client.devices()
        devices = sorted(
            d for d, v in views.items()
            if v.card is not None and (args.all or d in args.device or v.card.site == args.site)
        )
        if not devices:
            raise InputNotFoundError("no matching device discovered", "check --site/--device")
        client.on_reply(_print_reply)
        rollback = revert_config_rollback if command == "patch_config" else None
        report = Rollout(client, command, command_args, policy, rollback,
                         log=lambda line: emit(f"== {line}", flush=True)).run(devices)
    finally:
        client.stop()
    emit(f"rollout {'ABORTED: ' + report.reason if report.aborted else 'complete'}: "
          f"{len(report.done)} done, {len(report.failed)} failed, {len(report.timed_out)} "
          f"timed out, {len(report.rolled_back)} rolled back, {len(report.not_attempted)} not "
          f"attempted, {report.waves} wave(s) in {report.duration_s:.1f} s")
    for device_id, reason in sorted(report.failed.items())[:20]:
        emit(f"  failed {device_id}: {reason}")
    return ExitCode.FAILURE if report.aborted else ExitCode.OK


def cmd_follow(args: argparse.Namespace) -> int:
    client = _client(args, follow=True)
    wanted = set(args.device)

    def show(telemetry: Any) -> None:
        if wanted and telemetry.device_id not in wanted:
            return
        fps = sum(c.fps for c in telemetry.cameras.values())
        temp = telemetry.device.max_temp_c if telemetry.device else None
        emit(f"{telemetry.device_id:24s} fps {fps:6.1f}  temp "
              f"{'-' if temp is None else f'{temp:.1f}'}  outbox {telemetry.outbox.depth}",
              flush=True)

    client.on_telemetry(show)
    done = threading.Event()
    try:
        done.wait(args.duration_s if args.duration_s > 0 else None)
    finally:
        client.stop()
    return ExitCode.OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from edge_agent.fleet.simulator import SimulatedFleet, SimulationOptions

    options = SimulationOptions(devices=args.devices, per_connection=args.per_connection,
                                sites=args.sites, prefix=args.prefix,
                                telemetry_interval_s=args.telemetry_interval_s)
    fleet = SimulatedFleet(replace(link_options(args, ""), session_expiry_s=3600), options,
                           args.workdir)
    started = time.monotonic()
    fleet.start()
    emit(f"{args.devices} simulated device(s) online in {time.monotonic() - started:.1f} s "
          f"on {args.broker}; Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait(args.duration_s if args.duration_s > 0 else None)
    finally:
        fleet.stop()
    return ExitCode.OK


HANDLERS = {"inventory": cmd_inventory, "ls": cmd_inventory, "export": cmd_export,
            "send": cmd_send, "rollout": cmd_rollout, "follow": cmd_follow,
            "simulate": cmd_simulate}


def run(args: argparse.Namespace) -> int:
    """Dispatch a parsed command line."""
    handler = HANDLERS[args.command]
    return handler(args)
