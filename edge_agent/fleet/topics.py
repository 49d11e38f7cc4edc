"""Fleet topic names, built in one place so the ACL, the bridge and the docs agree.

Device-addressed topics live in the device's own subtree (``<prefix>/<device>/...``), which
the shipped ACL already lets the device read (``cmd/#``) and write; the site-wide and
fleet-wide request topics live under a separate root, ``<prefix>-fleet/``, so no device id can
ever collide with them::

    <prefix>/<device>/cmd/req              commands to one device
    <prefix>/<device>/cmd/res              its replies (default and MQTT 3.1.1 reply topic)
    <prefix>/<device>/fleet                retained DeviceCard (site, module, JetPack, plan...)
    <prefix>-fleet/site/<site>/cmd/req     commands to every device of a site
    <prefix>-fleet/all/cmd/req             commands to every device
"""

from __future__ import annotations

from edge_agent.events.topics import check_level

DEFAULT_PREFIX = "edge-agent"


class FleetTopics:
    """The fleet topics of one device (or, with device_id '+', the tool's wildcards)."""

    def __init__(self, prefix: str, device_id: str, site: str = "default") -> None:
        self.prefix = check_level(prefix, "topic prefix")
        self.device_id = device_id if device_id == "+" else check_level(device_id, "device id")
        self.site = site if site == "+" else check_level(site, "site")

    @property
    def root(self) -> str:
        """``<prefix>/<device>``."""
        return f"{self.prefix}/{self.device_id}"

    @property
    def requests(self) -> str:
        """Commands addressed to this device."""
        return f"{self.root}/cmd/req"

    @property
    def replies(self) -> str:
        """Where replies go when the request names no MQTT 5 response topic."""
        return f"{self.root}/cmd/res"

    @property
    def card(self) -> str:
        """Retained DeviceCard."""
        return f"{self.root}/fleet"

    @property
    def status(self) -> str:
        """Retained StatusPayload (events.topics layout)."""
        return f"{self.root}/status"

    @property
    def telemetry(self) -> str:
        """Periodic TelemetryPayload (events.topics layout)."""
        return f"{self.root}/telemetry"

    @property
    def site_requests(self) -> str:
        """Commands to every device of this device's site."""
        return site_request_topic(self.prefix, self.site)

    @property
    def fleet_requests(self) -> str:
        """Commands to every device."""
        return fleet_request_topic(self.prefix)


def site_request_topic(prefix: str, site: str) -> str:
    """``<prefix>-fleet/site/<site>/cmd/req``."""
    return f"{check_level(prefix, 'topic prefix')}-fleet/site/{site}/cmd/req"


def fleet_request_topic(prefix: str) -> str:
    """``<prefix>-fleet/all/cmd/req``."""
    return f"{check_level(prefix, 'topic prefix')}-fleet/all/cmd/req"


def device_of(topic: str) -> str:
    """The device level of a ``<prefix>/<device>/...`` topic ('' when there is none)."""
    parts = topic.split("/")
    return parts[1] if len(parts) > 2 else ""
