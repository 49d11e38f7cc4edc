"""edge-agent: people analytics on NVIDIA Jetson, published over MQTT."""

from edge_agent.native_threads import limit_native_threads

# Before any submodule imports numpy/scipy: their BLAS reads these once, when it loads.
limit_native_threads()

__version__ = "0.1.0"
