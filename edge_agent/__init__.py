"""edge-agent: people analytics on NVIDIA Jetson, published over MQTT."""

from edge_agent.runtime.native_threads import limit_native_threads, quiet_native_logs

# Before any submodule imports numpy/scipy/cv2: these are read once, when the library loads.
limit_native_threads()
quiet_native_logs()

__version__ = "0.1.0"
