"""The command protocol without a broker: envelope, at-most-once ledger, signatures, rate
limits, replies for every kind of bad input (hypothesis), waves and the inventory table.

The receiver is driven through its `CommandChannel` protocol by `CollectingChannel`, a plain
in-memory implementation of that protocol (the MQTT path is covered in test_fleet_mqtt.py).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent.fleet.channel import MessageCallback, MessageProperties
from edge_agent.fleet.commands import COMMANDS, command_schemas
from edge_agent.fleet.dispatcher import CommandDispatcher, DispatchOptions
from edge_agent.fleet.envelope import CommandReply, CommandRequest, encode
from edge_agent.fleet.inventory import InventoryRow, render, sort_rows
from edge_agent.fleet.ledger import CommandLedger
from edge_agent.fleet.rate_limit import SenderRateLimiter
from edge_agent.fleet.receiver import CommandReceiver
from edge_agent.fleet.rollout import plan_waves
from edge_agent.fleet.signing import sign
from edge_agent.fleet.simulated_device import SimulatedDevice
from edge_agent.fleet.topics import FleetTopics
from edge_agent.settings.fleet import FleetSettings

KEY = bytes(range(32))


class CollectingChannel:
    """CommandChannel kept in memory: subscriptions by filter, replies in a list."""

    def __init__(self) -> None:
        self.routes: Dict[str, MessageCallback] = {}
        self.replies: List[Tuple[str, CommandReply, bytes]] = []
        self._cond = threading.Condition()

    def subscribe(self, topic: str, callback: MessageCallback) -> None:
        self.routes[topic] = callback

    def publish_reply(self, topic: str, payload: bytes, correlation_data: bytes) -> None:
        with self._cond:
            self.replies.append((topic, CommandReply.model_validate_json(payload),
                                 correlation_data))
            self._cond.notify_all()

    def deliver(self, topic: str, payload: bytes,
                properties: Optional[MessageProperties] = None) -> None:
        self.routes[topic](topic, payload, properties or MessageProperties())

    def wait_terminal(self, count: int, timeout_s: float = 10.0) -> List[CommandReply]:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                done = [r for _, r, _ in self.replies if r.terminal]
                if len(done) >= count:
                    return done
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(done)} of {count} terminal replies: "
                                         f"{[r for _, r, _ in self.replies]}")
                self._cond.wait(left)


class Device:
    """A simulated device with a receiver on a CollectingChannel."""

    def __init__(self, tmp_path: Path, settings: Optional[FleetSettings] = None,
                 snapshots: bool = False) -> None:
        self.published: List[Tuple[str, bytes, bool]] = []
        self.target = SimulatedDevice("dev-1", "lab", "edge-agent",
                                      lambda t, p, r: self.published.append((t, p, r)))
        self.channel = CollectingChannel()
        self.topics = FleetTopics("edge-agent", "dev-1", "lab")
        self.ledger = CommandLedger(tmp_path / "ledger.sqlite")
        self.receiver = CommandReceiver(
            self.topics, self.channel,
            CommandDispatcher(self.target, DispatchOptions(snapshots_enabled=snapshots,
                                                           health_poll_s=0.01)),
            self.ledger, settings or FleetSettings(),
        )
        self.receiver.start()

    def send(self, payload: bytes, topic: str = "") -> None:
        self.channel.deliver(topic or self.topics.requests, payload)

    def close(self) -> None:
        self.receiver.stop()
        self.ledger.close()


@pytest.fixture
def device(tmp_path: Path) -> Any:
    instance = Device(tmp_path)
    yield instance
    instance.close()


def request(command: str = "ping", args: Optional[Dict[str, Any]] = None, ttl_s: float = 60.0,
            **extra: Any) -> CommandRequest:
    now = time.time()
    return CommandRequest(id=extra.pop("id", f"c-{time.monotonic_ns()}"), command=command,
                          args=args or {}, issued_at=now, expires_at=now + ttl_s, **extra)


def test_ping_goes_accepted_then_done_on_the_reply_topic(device: Device) -> None:
    device.send(encode(request(request_id="r-1")))
    device.channel.wait_terminal(1)
    states = [(t, r.state, r.request_id) for t, r, _ in device.channel.replies]
    assert states == [("edge-agent/dev-1/cmd/res", "accepted", "r-1"),
                      ("edge-agent/dev-1/cmd/res", "done", "r-1")]
    assert device.channel.replies[-1][1].result["card"]["device_id"] == "dev-1"


def test_mqtt5_response_topic_and_correlation_data_are_honoured(device: Device) -> None:
    device.channel.deliver(device.topics.requests, encode(request()),
                           MessageProperties("tool/inbox", b"\x01corr"))
    device.channel.wait_terminal(1)
    assert {(t, c) for t, _, c in device.channel.replies} == {("tool/inbox", b"\x01corr")}


def test_site_and_fleet_topics_reach_the_device(device: Device) -> None:
    device.send(encode(request()), device.topics.site_requests)
    device.send(encode(request()), device.topics.fleet_requests)
    assert len(device.channel.wait_terminal(2)) == 2
    assert device.topics.site_requests == "edge-agent-fleet/site/lab/cmd/req"


def test_a_redelivered_command_runs_once_even_after_a_restart(tmp_path: Path) -> None:
    first = Device(tmp_path)
    command = encode(request("set_power_mode", {"mode": "10W"}, id="once-1"))
    first.send(command)
    first.send(command)  # QoS 1 redelivery
    replies = first.channel.wait_terminal(2)
    assert sorted(r.state for r in replies) == ["done", "failed"]
    assert [r.code for r in replies if r.state == "failed"] == ["duplicate"]
    first.close()
    again = Device(tmp_path)  # same ledger file: a restarted agent
    again.send(command)
    (reply,) = again.channel.wait_terminal(1)
    assert (reply.state, reply.code) == ("failed", "duplicate")
    again.close()


def test_expired_commands_are_refused_and_not_run(device: Device) -> None:
    device.send(encode(request("set_power_mode", {"mode": "10W"}, ttl_s=-1.0)))
    (reply,) = device.channel.wait_terminal(1)
    assert (reply.state, reply.code) == ("failed", "expired")
    assert device.target.card().power_mode == "MAXN"


@pytest.mark.parametrize(
    ("make", "code", "names"),
    [  # built when the test runs: a request made at collection time could have expired
        (lambda: b"{not json", "malformed", "request"),
        (lambda: b"[1, 2]", "malformed", "request"),
        (lambda: json.dumps({"id": "x", "command": "ping"}).encode(), "malformed", "issued_at"),
        (lambda: encode(request("warp_drive")), "unknown_command", "warp_drive"),
        (lambda: encode(request("set_log_level", {"level": 3})), "invalid_args", "args.level"),
        (lambda: encode(request("set_log_level", {"level": "INFO", "colour": 1})),
         "invalid_args", "args.colour"),
        (lambda: b"{" + b" " * (300 * 1024) + b"}", "malformed", "limit"),
    ],
)
def test_bad_requests_get_a_failed_reply_naming_the_problem(
    device: Device, make: Callable[[], bytes], code: str, names: str
) -> None:
    device.send(make())
    (reply,) = device.channel.wait_terminal(1)
    assert (reply.state, reply.code) == ("failed", code)
    assert names in reply.reason


def test_config_that_validates_but_fails_at_run_time_is_rolled_back(device: Device) -> None:
    before = device.target.current_config()
    bad = json.loads(json.dumps(before))
    bad["cameras"][0]["url"] = "rtsp://camera.invalid/stream"
    device.send(encode(request("set_config", {"config": bad, "health_timeout_s": 0.2})))
    (reply,) = device.channel.wait_terminal(1)
    assert (reply.state, reply.code) == ("failed", "rolled_back")
    assert "cameras[entrance].url" in reply.reason
    assert device.target.current_config() == before


def test_invalid_config_names_the_field_and_changes_nothing(device: Device) -> None:
    before = device.target.current_config()
    bad = {**before, "cameras": [{"id": "c1", "url": 5}]}
    device.send(encode(request("set_config", {"config": bad})))
    (reply,) = device.channel.wait_terminal(1)
    assert reply.code == "invalid_args" and "config.cameras.0.url" in reply.reason
    assert device.target.current_config() == before


def test_camera_zone_commands_and_revert(device: Device) -> None:
    zone = {"name": "door", "polygon": [[0, 0], [1, 0], [1, 1]]}
    device.send(encode(request("set_zones", {"camera_id": "entrance", "items": [zone]})))
    device.send(encode(request("add_camera", {"camera": {"id": "yard", "url": "rtsp://y/1"}})))
    device.send(encode(request("remove_camera", {"camera_id": "nope"})))
    replies = device.channel.wait_terminal(3)
    assert [r.state for r in replies] == ["done", "done", "failed"]
    assert "no camera 'nope'" in replies[2].reason
    config = device.target.current_config()
    assert [c["id"] for c in config["cameras"]] == ["entrance", "yard"]
    assert config["cameras"][0]["zones"][0]["name"] == "door"
    device.send(encode(request("revert_config", {"revision": replies[0].result["previous"]})))
    device.channel.wait_terminal(4)
    assert [c["id"] for c in device.target.current_config()["cameras"]] == ["entrance"]


def test_snapshot_is_refused_unless_enabled(device: Device) -> None:
    device.send(encode(request("snapshot", {"camera_id": "entrance"})))
    (reply,) = device.channel.wait_terminal(1)
    assert reply.code == "unsupported" and "disabled" in reply.reason


def _signed_device(tmp_path: Path) -> Device:
    return Device(tmp_path, FleetSettings(require_signature=True, keys={"k1": KEY.hex()}))


def test_signed_commands_run_and_bad_signatures_are_refused_and_counted(tmp_path: Path) -> None:
    device = _signed_device(tmp_path)
    try:
        good = sign(request(id="s-1"), "k1", KEY)
        device.send(encode(good))
        device.send(encode(request(id="s-2")))  # unsigned
        device.send(encode(sign(request(id="s-3"), "k1", b"\x00" * 32)))  # wrong key
        device.send(encode(good.model_copy(update={"id": "s-4"})))  # tampered after signing
        old = request(id="s-5").model_copy(update={"issued_at": time.time() - 3600})
        device.send(encode(sign(old, "k1", KEY)))  # outside the time window
        replay = sign(request(id="s-6"), "k1", KEY)
        device.send(encode(replay))
        device.send(encode(replay.model_copy(update={"id": "s-6"})))  # the same nonce again
        replies = {r.id: r for r in device.channel.wait_terminal(7)}
        assert replies["s-1"].state == "done"
        refused = [replies[i] for i in ("s-2", "s-3", "s-4", "s-5")]
        assert all((r.code, r.reason) == ("unauthorised", "signature not accepted")
                   for r in refused)
        assert device.receiver.counters()["unauthorised"] == 5
        assert device.receiver.denied_reasons() == {
            "unsigned": 1, "bad mac": 2, "timestamp outside window": 1, "nonce replayed": 1}
    finally:
        device.close()


def test_key_rotation_accepts_both_keys_during_the_overlap(tmp_path: Path) -> None:
    new_key = bytes(range(100, 132))
    device = Device(tmp_path, FleetSettings(require_signature=True,
                                            keys={"k1": KEY.hex(), "k2": new_key.hex()}))
    try:
        device.send(encode(sign(request(id="a"), "k1", KEY)))
        device.send(encode(sign(request(id="b"), "k2", new_key)))
        assert [r.state for r in device.channel.wait_terminal(2)] == ["done", "done"]
    finally:
        device.close()


def test_a_flooding_sender_is_limited_and_counted_others_are_not(tmp_path: Path) -> None:
    device = Device(tmp_path, FleetSettings(rate_per_s=0.001, burst=3))
    try:
        for index in range(10):
            device.send(encode(request(id=f"f-{index}", sender="flood")))
        device.send(encode(request(id="calm", sender="ops")))
        replies = device.channel.wait_terminal(11)
        limited = [r for r in replies if r.code == "rate_limited"]
        assert len(limited) == 7
        assert device.receiver.limited_senders() == {"flood": 7}
        assert any(r.id == "calm" and r.state == "done" for r in replies)
    finally:
        device.close()


def test_rate_limiter_refills_with_time() -> None:
    now = [0.0]
    limiter = SenderRateLimiter(rate_per_s=1.0, burst=1, clock=lambda: now[0])
    assert limiter.allow("a") and not limiter.allow("a")
    now[0] = 1.0
    assert limiter.allow("a")


def test_ledger_forgets_ids_after_their_window(tmp_path: Path) -> None:
    now = [100.0]
    ledger = CommandLedger(tmp_path / "l.sqlite", clock=lambda: now[0])
    assert ledger.claim("s", "a", keep_until_s=150.0) is None
    assert ledger.claim("s", "a", keep_until_s=150.0) == "running"
    assert ledger.claim("other", "a", keep_until_s=150.0) is None  # scopes are separate
    now[0] = 200.0
    assert ledger.prune() == 2 and ledger.size() == 0
    ledger.close()


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)


@st.composite
def fuzzed_payloads(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "envelope"]))
    if kind == "bytes":
        return draw(st.binary(max_size=2000))
    if kind == "json":
        return json.dumps(draw(JSONISH)).encode()
    now = time.time()
    base: Dict[str, Any] = {"id": draw(st.text(min_size=0, max_size=12)) or "x",
                            "command": draw(st.sampled_from(sorted(COMMANDS) + ["zzz", ""])),
                            "args": draw(st.dictionaries(st.text(max_size=10), JSONISH,
                                                         max_size=4)),
                            "issued_at": now, "expires_at": now + draw(st.floats(-10, 100))}
    for key in draw(st.lists(st.sampled_from(sorted(base)), max_size=2)):
        base[key] = draw(JSONISH)  # wrong types
    if draw(st.booleans()):
        base[draw(st.text(min_size=1, max_size=10))] = draw(JSONISH)  # unknown fields
    if draw(st.integers(0, 20)) == 0:
        base["args"] = {"blob": "x" * 300_000}  # huge
    return json.dumps(base).encode()


def test_fuzzed_commands_never_crash_and_always_get_a_reply(tmp_path: Path) -> None:
    device = Device(tmp_path, FleetSettings(rate_per_s=1000.0, burst=1000))

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(payload=fuzzed_payloads())
    def one(payload: bytes) -> None:
        before = len(device.channel.wait_terminal(0))
        device.send(payload)
        replies = device.channel.wait_terminal(before + 1, timeout_s=20.0)
        assert len(replies) == before + 1
        assert replies[-1].state in ("done", "failed")
        assert device.receiver.counters().get("error", 0) == 0, replies[-1].reason

    try:
        one()
    finally:
        device.close()


def test_waves_start_with_a_canary_then_fixed_shares() -> None:
    waves = plan_waves([f"d{i}" for i in range(1000)], canary_pct=1, wave_pct=20)
    assert [len(w) for w in waves] == [10, 200, 200, 200, 200, 190]
    assert plan_waves(["a", "b"], 1, 20) == [["a"], ["b"]]
    with pytest.raises(ValueError, match="percentages"):
        plan_waves(["a"], 0, 20)


def _row(device: str, fps: Optional[float]) -> InventoryRow:
    return InventoryRow(device, "site-a", "online", "orin_nx_16gb", "6.2", "MAXN", "auto",
                        fps, 50.0, 0, "0.1.0", 1000.0)


def test_inventory_sorts_pages_and_fits_the_terminal() -> None:
    items = sort_rows([_row("b", 5.0), _row("a", None), _row("c", 20.0)], "fps", True)
    assert [r.device for r in items] == ["c", "b", "a"]
    lines = render(items, width=60, page=2, page_size=2, now=1010.0)
    assert lines[-1] == "page 2/2, 3 device(s)" and lines[1].startswith("a ")
    assert all(len(line) <= 60 for line in lines)
    assert "JETPACK" not in lines[0]  # dropped first when narrow
    assert "JETPACK" in render(items, width=200, now=1010.0)[0]
    with pytest.raises(ValueError, match="choose one of"):
        sort_rows(items, "colour")


def test_every_command_has_an_exported_schema() -> None:
    schemas = command_schemas()
    assert {f"{name}.args" for name in COMMANDS} <= set(schemas)
    assert schemas["set_log_level.args"]["properties"]["level"]["enum"] == [
        "DEBUG", "INFO", "WARNING", "ERROR"]
    assert "request_id" in schemas["CommandRequest"]["properties"]


def test_a_full_queue_answers_busy_and_replies_stay_in_order(tmp_path: Path) -> None:
    device = Device(tmp_path, FleetSettings(queue_size=1))
    try:
        slow = json.loads(json.dumps(device.target.current_config()))
        slow["cameras"][0]["url"] = "rtsp://camera.invalid/stream"  # worker busy ~0.5 s
        device.send(encode(request("set_config", {"config": slow, "health_timeout_s": 0.5},
                                   id="slow")))
        for index in range(4):
            device.send(encode(request(id=f"p-{index}")))
        replies = device.channel.wait_terminal(5)
        assert any(r.code == "busy" for r in replies)
        for command_id in ["slow"] + [f"p-{i}" for i in range(4)]:
            states = [r.state for _, r, _ in device.channel.replies if r.id == command_id]
            assert states[0] == "accepted" and states[-1] in ("done", "failed"), states
    finally:
        device.close()


def test_a_dead_command_worker_is_reported_to_the_supervisor(device: Any) -> None:
    from edge_agent.runtime.supervisor import Supervisor

    supervisor = Supervisor()
    supervisor.add_probe(lambda: [device.receiver.health()])
    supervisor.poll(0.0)
    assert supervisor.healthy()
    device.receiver._jobs.put(object())  # fault injection: a job the worker cannot run
    deadline = time.monotonic() + 5.0
    while device.receiver.health().alive and time.monotonic() < deadline:
        time.sleep(0.01)
    health = device.receiver.health()
    assert not health.alive and health.deaths == 1 and "AssertionError" in health.last_error
    supervisor.poll(1.0)
    assert not supervisor.healthy() and health.name in supervisor.failed()
