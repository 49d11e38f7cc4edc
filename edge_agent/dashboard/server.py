"""The dashboard's HTTP side: the page, its static files, JSON views and a Server-Sent Events
stream of changes.

Why SSE from a server that subscribes (not MQTT over WebSockets in the browser): one port and
one process serve everything; broker credentials and TLS keys stay on the server instead of in
every browser; payloads are validated with the agent's own pydantic models before they reach
the page (a schema failure becomes an error badge, never a broken page); and the server sends
a site of 500 devices as a few KB of changed cards per tick instead of every MQTT message.
The stdlib server suffices: a handful of viewers, one thread each (no extra dependency on the
device).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import unquote

from edge_agent.dashboard.fleet_state import FleetState
from edge_agent.dashboard.mqtt_source import BrokerLink
from edge_agent.dashboard.views import SiteTotals, device_card, device_detail

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}


class DashboardModel:
    """Fleet state + broker link + site totals, rendered into the JSON the page reads."""

    def __init__(self, fleet: FleetState, link: Optional[BrokerLink],
                 chart_js: Optional[Path], chart_hint: str, push_interval_s: float) -> None:
        self.fleet = fleet
        self.link = link
        self.chart_js = chart_js
        self.chart_hint = chart_hint
        self.push_interval_s = push_interval_s
        self._sites = SiteTotals()
        self._sites_lock = threading.Lock()

    def header(self, now_s: float) -> Dict[str, Any]:
        """Broker state, site totals and counters shown above the cards."""
        with self.fleet.lock:
            with self._sites_lock:
                sites = self._sites.compute(self.fleet, now_s)
            ignored = self.fleet.ignored_devices + self.fleet.ignored_names
        broker = self.link.view() if self.link is not None else {"state": "none"}
        return {"now": now_s, "broker": broker, "sites": sites, "ignored": ignored,
                "charts": self.chart_js is not None, "charts_hint": self.chart_hint}

    def cards(self, since_version: int, stale_seen: Dict[str, bool]) -> Dict[str, Any]:
        """Cards changed since ``since_version`` or whose stale flag flipped (updates
        ``stale_seen``)."""
        self.fleet.expire_tracks()
        now_s = self.fleet.now()
        with self.fleet.lock:
            version = self.fleet.version
            cards = []
            for device in self.fleet.devices.values():
                stale = self.fleet.is_stale(device, now_s)
                if device.changed > since_version or stale_seen.get(device.device_id) != stale:
                    stale_seen[device.device_id] = stale
                    cards.append(device_card(self.fleet, device, now_s))
        return {"version": version, "devices": cards}

    def detail(self, device_id: str) -> Optional[Dict[str, Any]]:
        """One device's full view, or None when unknown."""
        now_s = self.fleet.now()
        with self.fleet.lock:
            device = self.fleet.devices.get(device_id)
            return None if device is None else device_detail(self.fleet, device, now_s)


def make_handler(model: DashboardModel) -> Any:
    """A request handler class bound to ``model``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "edge-dashboard"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
            logger.debug("%s %s", self.address_string(), format % args)

        def do_GET(self) -> None:  # noqa: N802 (stdlib name)
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._file(STATIC_DIR / "index.html")
            elif path.startswith("/static/") and "/" not in path[len("/static/"):]:
                self._file(STATIC_DIR / path[len("/static/"):])
            elif path == "/vendor/chart.js":
                if model.chart_js is None:
                    self._json({"error": model.chart_hint}, HTTPStatus.NOT_FOUND)
                else:
                    self._file(model.chart_js, "text/javascript; charset=utf-8")
            elif path == "/api/state":
                now_s = model.fleet.now()
                body = model.header(now_s)
                body.update(model.cards(-1, {}))
                self._json(body)
            elif path.startswith("/api/device/"):
                detail = model.detail(unquote(path[len("/api/device/"):]))
                if detail is None:
                    self._json({"error": "unknown device"}, HTTPStatus.NOT_FOUND)
                else:
                    self._json(detail)
            elif path == "/events":
                self._events()
            else:
                self._json({"error": f"no such page {path}"}, HTTPStatus.NOT_FOUND)

        def _file(self, path: Path, content_type: str = "") -> None:
            if not path.is_file():
                self._json({"error": "not found"}, HTTPStatus.NOT_FOUND)
                return
            data = path.read_bytes()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type or _STATIC_TYPES.get(
                path.suffix, "application/octet-stream"))
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(data)

        def _json(self, body: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
            data = json.dumps(body, separators=(",", ":")).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def _events(self) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            version, stale_seen = -1, {}  # type: int, Dict[str, bool]
            try:
                while not getattr(self.server, "closing", False):
                    now_s = model.fleet.now()
                    body = model.header(now_s)
                    body.update(model.cards(version, stale_seen))
                    body["full"] = version < 0
                    version = body["version"]
                    data = json.dumps(body, separators=(",", ":"))
                    self.wfile.write(f"data: {data}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(model.push_interval_s)  # the push period, not a wait on a state
            except (BrokenPipeError, ConnectionResetError):
                return  # the page went away

    return Handler


class DashboardServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose SSE loops end when it shuts down."""

    daemon_threads = True
    closing = False

    def close(self) -> None:
        """Stop serving and end the event streams."""
        self.closing = True
        self.shutdown()
        self.server_close()
