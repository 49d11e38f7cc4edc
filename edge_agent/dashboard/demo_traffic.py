"""Realistic device traffic built from the agent's own payload models, for trying the
dashboard without cameras and for its tests (a stand-in for many devices, not for one agent).

Every document is constructed through the pydantic models that generate docs/asyncapi.yaml,
so it is exactly what an agent would send; each simulated device has its own MQTT connection
with the agent's will (retained 'offline' status), so killing the process turns its devices
offline the way a dead agent does. ``--shared-connection`` puts many devices on one
connection (500 devices without 500 sockets; no per-device will then).

    python -m edge_agent.dashboard.demo_traffic --broker 127.0.0.1:1883 --devices 5
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
import uuid
from typing import Dict, List, Sequence, Tuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge_agent import __version__
from edge_agent.events.health_payloads import DeviceHealthTelemetry, PowerModeTelemetry
from edge_agent.events.payloads import StatusPayload, to_json_bytes
from edge_agent.events.plan_payloads import PlanPayload
from edge_agent.events.pose_payloads import zone_count_payloads
from edge_agent.events.state_payloads import (
    CameraTelemetry,
    OccupancyPayload,
    OutboxTelemetry,
    ProcessTelemetry,
    TelemetryPayload,
)
from edge_agent.events.topics import Topics
from edge_agent.events.track_payloads import (
    LineCountPayload,
    TrackEvent,
    TrackZones,
    ZoneCountPayload,
)

Message = Tuple[str, bytes, bool]  # topic, payload, retain
ZONES = ("left", "right")
LINE = "door"
FRAME_W, FRAME_H = 640, 360


def status_message(topics: Topics, device_id: str, state: str, session: int) -> Message:
    """The retained status document (state 'offline' with ts None is the will)."""
    payload = StatusPayload(state=state, device_id=device_id,
                            ts=None if state == "offline" else time.time(),
                            version=__version__, session=session)
    return topics.status, to_json_bytes(payload), True


def device_tick(topics: Topics, device_id: str, index: int, tick: int,
                cameras: Sequence[str] = ("cam1",)) -> List[Message]:
    """One round of a device's messages: telemetry, plan, and per camera zones, line, tracks.

    Values move with ``tick`` (people 0..6 per zone, crossings growing) so a viewer sees
    numbers change; they differ per device ``index`` so sums are meaningful."""
    now = time.time()
    out: List[Message] = []
    mode = ("MODE_15W", 15.0) if index % 2 else ("MAXN", None)
    plan = PlanPayload(device_id=device_id, ts=now, reason="first plan", power_mode=mode[0],
                       utility=1.0, utilisation={"gpu": round(0.3 + 0.05 * (tick % 8), 2),
                                                 "dla0": 0.2})
    health = DeviceHealthTelemetry(
        power_mode=PowerModeTelemetry(id=index % 3, name=mode[0], budget_w=mode[1],
                                      uncapped=mode[1] is None),
        temps_c={"cpu-thermal": 40.0 + index % 20 + tick % 5, "gpu-thermal": 38.5 + index % 20},
        max_temp_c=40.0 + index % 20 + tick % 5, power_mw=9000.0 + 100.0 * (tick % 10))
    telemetry = TelemetryPayload(
        device_id=device_id, ts=now, version=__version__, session=1,
        cameras={c: CameraTelemetry(state="streaming", fps=14.5 + (tick % 3) * 0.5,
                                    frames_dropped=tick, reconnects=0) for c in cameras},
        outbox=OutboxTelemetry(depth=tick % 4, bytes=100 * (tick % 4), oldest_age_s=None,
                               dropped=0, refused=0, expired=0, rejected=0),
        process=ProcessTelemetry(rss_bytes=200_000_000, cpu_percent=35.0, uptime_s=float(tick)),
        device=health, plan=plan)
    out.append((topics.telemetry, to_json_bytes(telemetry), False))
    out.append((topics.plan, to_json_bytes(plan), True))
    for camera in cameras:
        total = 0
        for z, zone in enumerate(ZONES):
            people = (index + tick + 3 * z) % 7
            total += people
            count = ZoneCountPayload(camera_id=camera, zone=zone, count=people,
                                     active=people // 2, ts=now, restored=False, standin=False)
            out.append((topics.zone_count(camera, zone), to_json_bytes(count), True))
            coverage = round(0.5 + 0.45 * math.sin(0.3 * tick + index + z), 4)
            occupancy = OccupancyPayload(device_id=device_id, camera_id=camera, zone=zone,
                                         coverage=coverage, occupied=coverage > 0.01,
                                         capture_ts=now, standin=False)
            out.append((topics.occupancy(camera, zone), to_json_bytes(occupancy), True))
            sitting = people // 3
            for poses in zone_count_payloads(camera, {zone: {"sitting": sitting,
                                                             "standing": people - sitting}},
                                             now, False):
                out.append((topics.zone_pose(camera, zone), to_json_bytes(poses), True))
        line = LineCountPayload(camera_id=camera, line=LINE, count_in=tick + index,
                                count_out=tick // 2, since=now - tick, ts=now, standin=False)
        out.append((topics.line_count(camera, LINE),
                    line.model_dump_json(by_alias=True).encode(), True))
        for track in range(1, min(total, 4) + 1):
            x = 40.0 + 120.0 * track + 8.0 * (tick % 5)
            event = TrackEvent(
                event_id=uuid.uuid4().hex, device_id=device_id, camera_id=camera,
                capture_ts=now, emitted_ts=now, seq=tick * 10 + track, standin=False,
                type="new" if tick == 0 else "update", id=f"{camera}-{track}", track_id=track,
                reid_id=f"r{track}", state="confirmed", frame_seq=tick, frame_width=FRAME_W,
                frame_height=FRAME_H, box=[x, 80.0, x + 70.0, 300.0], score=0.9, top_score=0.95,
                active=bool(track % 2), zones=TrackZones(before=[], after=["left"], entered=[],
                                                         left=[]), start_ts=now - tick)
            out.append((topics.track(camera), to_json_bytes(event), False))
    return out


def _client(broker: Tuple[str, int], client_id: str, will: Message) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=MQTTProtocolVersion.MQTTv5)
    client.will_set(will[0], will[1], qos=1, retain=True)
    client.max_inflight_messages_set(1000)  # many devices on one connection: do not stall
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect(broker[0], broker[1], keepalive=5)
    client.loop_start()
    if not connected.wait(10.0):
        raise SystemExit(f"demo traffic: broker {broker[0]}:{broker[1]} did not answer in 10 s")
    return client


def main(argv: Sequence[str] = ()) -> int:
    """Publish until killed (or --ticks rounds)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", default="127.0.0.1:1883")
    parser.add_argument("--prefix", default="edge-agent")
    parser.add_argument("--devices", type=int, default=3)
    parser.add_argument("--first", type=int, default=0, help="index of the first device")
    parser.add_argument("--name", default="demo-{:03d}", help="device id format")
    parser.add_argument("--period-s", type=float, default=1.0)
    parser.add_argument("--ticks", type=int, default=0, help="rounds to send (0 = forever)")
    parser.add_argument("--shared-connection", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="print the time of each round")
    args = parser.parse_args(list(argv) or None)
    host, _, port = args.broker.rpartition(":")
    broker = (host, int(port))
    devices = [(args.name.format(i), i) for i in range(args.first, args.first + args.devices)]
    topics = {d: Topics(args.prefix, d) for d, _ in devices}
    clients: Dict[str, mqtt.Client] = {}
    for device, _ in devices:
        if args.shared_connection and clients:
            clients[device] = next(iter(clients.values()))
            continue
        will = status_message(topics[device], device, "offline", 1)
        clients[device] = _client(broker, f"demo-{device}-{uuid.uuid4().hex[:6]}", will)
    for device, _ in devices:
        clients[device].publish(*status_message(topics[device], device, "online", 1)[:2],
                                qos=1, retain=True)
    tick = 0
    while not args.ticks or tick < args.ticks:
        started = time.monotonic()
        for position, (device, index) in enumerate(devices):
            for topic, payload, retain in device_tick(topics[device], device, index, tick):
                clients[device].publish(topic, payload, qos=1, retain=retain)
            # spread the devices over the period as real ones are, not one burst per round
            lag_s = started + args.period_s * (position + 1) / len(devices) - time.monotonic()
            time.sleep(max(0.0, lag_s))
        tick += 1
        if args.verbose:
            sys.stdout.write(f"tick {tick}: {time.monotonic() - started:.2f} s\n")
            sys.stdout.flush()
        time.sleep(max(0.0, args.period_s - (time.monotonic() - started)))  # publish period
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
