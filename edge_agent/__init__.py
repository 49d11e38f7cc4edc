"""edge-agent: people analytics on NVIDIA Jetson, published over MQTT."""

__version__ = "0.1.0"
