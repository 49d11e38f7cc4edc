"""Live site dashboard and Prometheus exporter, fed only by the documented MQTT API.

`edge-agent dashboard` serves one page (SSE from a server that subscribes); `edge-agent
exporter` serves Prometheus metrics. Both fold messages into the same FleetState.
"""
