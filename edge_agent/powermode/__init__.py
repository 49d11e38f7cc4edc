"""Changing the nvpmodel power mode without giving the agent root.

The agent (unprivileged, user edge-agent) only writes a request file holding a mode ID into
its state directory. A path-activated oneshot unit (systemd/edge-agent-power-mode.*) runs
`python -I -m edge_agent.powermode.apply` as root, which accepts nothing but a plain decimal
ID that appears in the device's own /etc/nvpmodel.conf, calls `nvpmodel -m ID`, and writes
the outcome where the agent can read it. This package imports only the standard library and
the conf parser, so the privileged side stays small enough to review.
"""

from __future__ import annotations

REQUEST_DIR = "/var/lib/edge-agent/power-mode"
REQUEST_NAME = "request"
RESULT_DIR = "/var/lib/edge-agent-power"
RESULT_NAME = "result.json"
CONF_PATH = "/etc/nvpmodel.conf"
NVPMODEL_PATH = "/usr/sbin/nvpmodel"
STATUS_PATH = "/var/lib/nvpmodel/status"  # nvpmodel's record of the active mode
