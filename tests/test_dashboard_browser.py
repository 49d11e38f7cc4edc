"""The dashboard in a real browser (Debian's chromium through chromium-driver, via Selenium)
against a real mosquitto, fed with documents built from the agent's payload models.

Checked as a person would: the numbers on the page equal those published; a payload failing
its schema shows an error badge (counted) while the page keeps working; a device whose process
dies turns offline (its will) with its last values kept and marked stale; the page says when
the broker is down and recovers when it is back; 500 devices load and keep updating.
Screenshots go to tmp_path, and to $EDGE_DASHBOARD_SCREENSHOTS when set (docs/dashboard.png).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional, TypeVar

import paho.mqtt.client as mqtt
import pytest
from mosquitto_broker import MosquittoBroker
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from edge_agent.dashboard.demo_traffic import ZONES, device_tick, status_message
from edge_agent.events.topics import Topics

T = TypeVar("T")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REPO = Path(__file__).resolve().parents[1]


def wait_for(check: Callable[[], Optional[T]], timeout_s: float, what: str) -> T:
    """Poll ``check`` until it returns a truthy value, failing with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    last_error: Optional[BaseException] = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # the element may be re-rendered between find and read
            last_error = error
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} ({last_error})")


def save_shot(driver: WebDriver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    target = os.environ.get("EDGE_DASHBOARD_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


class Publisher:
    """One simulated device on its own connection, with the agent's will."""

    def __init__(self, port: int, device: str, index: int) -> None:
        self.device, self.index = device, index
        self.topics = Topics("edge-agent", device)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{device}",
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.will_set(*status_message(self.topics, device, "offline", 1)[:2], qos=1,
                             retain=True)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()
        self.last: Dict[str, dict] = {}

    def publish(self, topic: str, payload: bytes, retain: bool) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5.0)

    def tick(self, tick: int) -> Dict[str, dict]:
        """Publish one round; returns the JSON documents by topic."""
        self.publish(*status_message(self.topics, self.device, "online", 1))
        for topic, payload, retain in device_tick(self.topics, self.device, self.index, tick):
            self.publish(topic, payload, retain)
            self.last[topic] = json.loads(payload)
        return self.last

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1500,1150"):
        options.add_argument(arg)
    # an explicit driver path: Selenium never looks for (or downloads) a browser or driver
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


class Dashboard:
    """`python -m edge_agent dashboard` as a child process; url is what it printed."""

    def __init__(self, port: int, *extra: str, push_interval_s: float = 0.25) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "dashboard", "--broker", f"127.0.0.1:{port}",
             "--listen", "127.0.0.1:0", "--push-interval-s", str(push_interval_s), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
        assert self.process.stdout is not None
        line = ""
        for line in self.process.stdout:
            if line.startswith("dashboard: "):
                break
        assert line.startswith("dashboard: http://"), f"no URL printed: {line!r}"
        self.url = line.split()[1]
        self._reader = threading.Thread(target=self.process.stdout.read, daemon=True)
        self._reader.start()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(10) == 0
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


def text(driver: WebDriver, css: str) -> str:
    """The rendered text of the first match, read in one script: the page re-renders cards
    several times a second, so a find-then-read pair could hold a replaced element."""
    value = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null", css)
    if value is None:
        raise AssertionError(f"nothing on the page matches {css}")
    return str(value).strip()


def attr(driver: WebDriver, css: str, name: str) -> str:
    """An attribute of the first match, read in one script (see text())."""
    return str(driver.execute_script(
        "const e = document.querySelector(arguments[0]); "
        "return e ? e.getAttribute(arguments[1]) : null", css, name))


def test_page_shows_published_numbers_errors_offline_and_broker_outage(
        tmp_path: Path, broker: MosquittoBroker, browser: WebDriver) -> None:
    dashboard = Dashboard(broker.port, "--site", "lobby=dev-*", "--stale-after-s", "30")
    device_a = Publisher(broker.port, "dev-a", 1)
    # dev-b is a separate process with its own connection and will: SIGKILL = a dead agent
    device_b, device_c = (subprocess.Popen(
        [sys.executable, "-m", "edge_agent.dashboard.demo_traffic", "--broker",
         f"127.0.0.1:{broker.port}", "--devices", "1", "--first", str(first), "--name", name,
         "--period-s", "0.5"], cwd=REPO) for first, name in ((2, "dev-b"), (3, "dev-c")))
    try:
        docs = device_a.tick(0)
        started = time.monotonic()
        browser.get(dashboard.url)
        root = "edge-agent/dev-a/cam1"
        expected = sum(docs[f"{root}/zone/{z}/count"]["count"] for z in ZONES)
        wait_for(lambda: text(browser, '[data-device="dev-a"] .people') == str(expected),
                 10, f"dev-a people = {expected}")
        page_load_s = time.monotonic() - started
        browser.find_element(By.CSS_SELECTOR, '[data-device="dev-a"]').click()
        for zone in ZONES:
            count = docs[f"{root}/zone/{zone}/count"]
            coverage = docs[f"{root}/zone/{zone}/occupancy"]["coverage"]
            row = f'#detail [data-zone="cam1/{zone}"]'
            want = str(count["count"])
            wait_for(lambda row=row, want=want: text(browser, f"{row} .people") == want, 5,
                     f"zone {zone} people")
            assert text(browser, f"{row} .active") == str(count["active"])
            assert text(browser, f"{row} .coverage") == f"{coverage * 100:.1f} %"
        line = docs[f"{root}/line/door/count"]
        assert text(browser, '#detail [data-line="cam1/door"] .in') == str(line["in"])
        assert text(browser, '#detail [data-line="cam1/door"] .out') == str(line["out"])
        wait_for(lambda: attr(browser, "#detail canvas.tracks", "data-tracks") not in ("None", "0"),
                 5, "track boxes drawn")
        for name in ("dev-b", "dev-c"):
            wait_for(lambda name=name: browser.find_elements(
                By.CSS_SELECTOR, f'[data-device="{name}"] .people'), 15, f"{name} on the page")

        # update latency: publish, then time until the page shows the new number
        docs = device_a.tick(1)
        expected = sum(docs[f"{root}/zone/{z}/count"]["count"] for z in ZONES)
        sent = time.monotonic()
        wait_for(lambda: text(browser, '[data-device="dev-a"] .people') == str(expected), 5,
                 "dev-a people after an update")
        update_latency_s = time.monotonic() - sent
        # the site card and the device cards come from one update: read both in one script
        site, cards = browser.execute_script(
            "return [document.querySelector('[data-site=\"lobby\"] .people').textContent,"
            " [...document.querySelectorAll('.card .people')].map(e => +e.textContent)]")
        assert int(site) == sum(cards) and len(cards) == 3, (site, cards)
        save_shot(browser, tmp_path, "dashboard-live")

        # a payload failing its schema: a counted badge on that device, the page still live
        bad = dict(docs[f"{root}/zone/left/count"], count=-3)
        device_a.publish(f"{root}/zone/left/count", json.dumps(bad).encode(), False)
        wait_for(lambda: text(browser, '[data-device="dev-a"] .errors') == "1 bad", 5,
                 "error badge")
        assert text(browser, '[data-device="dev-a"] .people') == str(expected)

        # a dead agent: offline (its will), last values kept and marked stale
        device_b.kill()
        device_b.wait(10)
        wait_for(lambda: attr(browser, '[data-device="dev-b"]', "data-status") == "offline",
                 15, "dev-b offline")
        assert attr(browser, '[data-device="dev-b"]', "data-stale") == "true"
        assert "stale" in text(browser, '[data-device="dev-b"]')
        # the last values stay: the page shows the sum of the retained zone counts
        from mqtt_subscriber import Subscriber

        with Subscriber(broker.port, ["edge-agent/dev-b/cam1/zone/+/count"]) as retained:
            for zone in ZONES:
                retained.wait_for(lambda m, zone=zone: f"/zone/{zone}/" in m.topic, 5)
            kept = sum(json.loads(m.payload)["count"] for m in retained.messages())
        assert text(browser, '[data-device="dev-b"] .people') == str(kept), "last value kept"
        save_shot(browser, tmp_path, "dashboard-offline")

        # a hung agent (or a cut cable) sends nothing, not even a FIN: the broker publishes
        # the will after 1.5 keepalives (demo traffic: 5 s), and the page follows
        wait_for(lambda: attr(browser, '[data-device="dev-c"]', "data-status") == "online",
                 10, "dev-c online")
        device_c.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        wait_for(lambda: attr(browser, '[data-device="dev-c"]', "data-status") == "offline",
                 20, "dev-c offline by keepalive")
        offline_after_s = time.monotonic() - frozen
        # MQTT: dead after 1.5 keepalives without a packet; mosquitto 2.0 checks expiry on its
        # loop (a keepalive apart at most) and the page adds its push interval: 3 keepalives
        assert offline_after_s <= 3 * 5, f"offline only after {offline_after_s:.1f} s"

        # broker down: the page says so; back: it recovers and numbers move again
        broker.stop()
        wait_for(lambda: "broker connection lost" in text(browser, "#broker")
                 or "unreachable" in text(browser, "#broker"), 10, "broker-down banner")
        wait_for(lambda: attr(browser, '[data-device="dev-a"]', "data-stale") == "true",
                 5, "values stale while the broker is down")
        save_shot(browser, tmp_path, "dashboard-broker-down")
        device_a.close()
        broker.start()
        wait_for(lambda: text(browser, "#broker") == "broker: connected", 40, "reconnected")
        device_a = Publisher(broker.port, "dev-a", 1)
        docs = device_a.tick(2)
        expected = sum(docs[f"{root}/zone/{z}/count"]["count"] for z in ZONES)
        wait_for(lambda: text(browser, '[data-device="dev-a"] .people') == str(expected), 10,
                 "numbers after recovery")
        sys.stderr.write(f"FIGURES page_load_s={page_load_s:.2f} "
                         f"update_latency_s={update_latency_s:.2f} "
                         f"hung_device_offline_s={offline_after_s:.1f}\n")
    finally:
        device_a.close()
        for process in (device_b, device_c):
            if process.poll() is None:
                process.kill()
                process.wait(10)
        dashboard.stop()


def test_500_devices_interactive_within_3_s_and_updating(
        tmp_path: Path, broker: MosquittoBroker, browser: WebDriver) -> None:
    # the default push interval; 500 devices each reporting every 8 s (about 625 messages/s)
    dashboard = Dashboard(broker.port, "--site", "north=sim-0*", "--site", "south=sim-*",
                          push_interval_s=0.5)
    sim = subprocess.Popen(
        [sys.executable, "-m", "edge_agent.dashboard.demo_traffic", "--broker",
         f"127.0.0.1:{broker.port}", "--devices", "500", "--name", "sim-{:03d}",
         "--period-s", "8", "--shared-connection"], cwd=REPO)
    try:
        import urllib.request

        def known() -> int:
            with urllib.request.urlopen(dashboard.url + "api/state", timeout=5) as answer:
                return len(json.load(answer)["devices"])
        wait_for(lambda: known() == 500, 60, "500 devices at the server")
        started = time.monotonic()
        browser.get(dashboard.url)
        wait_for(lambda: browser.execute_script(
            "return document.querySelectorAll('.card').length") == 500, 10, "500 cards")
        # interactive: a filter typed now is applied (the main thread is not stuck)
        browser.find_element(By.ID, "filter").send_keys("sim-499")
        wait_for(lambda: browser.execute_script(
            "return [...document.querySelectorAll('.card')].filter(c => !c.hidden).length") == 1,
            5, "filter applied")
        # from the browser's navigation start to the typed filter applied, as the page measures
        interactive_s = browser.execute_script(
            "return window.edgeDashboard.timing.filterAppliedMs") / 1000.0
        wall_s = time.monotonic() - started
        save_shot(browser, tmp_path, "dashboard-500")
        timing = browser.execute_script("return window.edgeDashboard.timing")
        sys.stderr.write(f"FIGURES devices=500 interactive_s={interactive_s:.2f} "
                         f"wall_s={wall_s:.2f} "
                         f"browser_timing_ms={timing}\n")
        before = text(browser, '[data-device="sim-499"]')
        wait_for(lambda: text(browser, '[data-device="sim-499"]') != before, 25,
                 "sim-499 card updating")
        assert interactive_s < 3.0, f"500-device page took {interactive_s:.2f} s"
    finally:
        sim.kill()
        sim.wait(10)
        dashboard.stop()


def test_page_matches_what_the_real_agent_published_on_a_clip(
        tmp_path: Path, broker: MosquittoBroker, browser: WebDriver) -> None:
    """`edge-agent run` with tracking on a synthetic clip (stand-in models), as
    tests/test_agent_tracking.py runs it; the page must show its last published numbers and,
    after the clean stop, 'stopped' with the values kept and marked stale."""
    from mqtt_subscriber import Subscriber
    from test_agent_tracking import tracking_config

    from edge_agent.capture.sample_footage import write_synthetic_clip

    clip = write_synthetic_clip(tmp_path / "clip.avi", 320, 240, 10, 4.0)
    config = tracking_config(tmp_path, clip, broker.port)
    dashboard = Dashboard(broker.port, "--site", "demo=track-*")
    try:
        browser.get(dashboard.url)
        with Subscriber(broker.port, ["edge-agent/track-dev/#"]) as subscriber:
            agent = subprocess.run(
                [sys.executable, "-m", "edge_agent", "run", "--config", str(config),
                 "--duration-s", "90"], cwd=REPO, capture_output=True, text=True, timeout=120)
            assert agent.returncode == 0, agent.stderr[-2000:]
            subscriber.wait_for(lambda m: m.topic.endswith("/status")
                                and b'"stopped"' in m.payload, timeout_s=10)
            messages = subscriber.messages()

        def last(suffix: str) -> dict:
            return dict(json.loads([m for m in messages if m.topic.endswith(suffix)][-1].payload))
        count, occupancy = last("/cam1/zone/left/count"), last("/cam1/zone/left/occupancy")
        line = last("/cam1/line/middle/count")
        card = '[data-device="track-dev"]'
        wait_for(lambda: attr(browser, card, "data-status") == "stopped", 15, "track-dev stopped")
        assert attr(browser, card, "data-stale") == "true"
        browser.find_element(By.CSS_SELECTOR, card).click()
        row = '#detail [data-zone="cam1/left"]'
        wait_for(lambda: text(browser, f"{row} .people") == str(count["count"]), 10,
                 "zone count as published")
        assert text(browser, f"{row} .coverage") == f"{occupancy['coverage'] * 100:.1f} %"
        assert text(browser, '#detail [data-line="cam1/middle"] .in') == str(line["in"])
        assert text(browser, '#detail [data-line="cam1/middle"] .out') == str(line["out"])
        assert text(browser, '[data-site="demo"] .people') == str(
            int(text(browser, f"{card} .people")))
        save_shot(browser, tmp_path, "dashboard-agent")
    finally:
        dashboard.stop()
