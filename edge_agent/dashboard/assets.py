"""Where the chart library comes from: an installed package, never the repository or a CDN.

Devices and site servers are often offline, so the page must not load anything from the
internet. Chart.js is installed by the system (Debian/Ubuntu `libjs-chart.js`, which
scripts/test.sh installs) or by npm into a folder given with --assets-dir
(`npm install --prefix DIR chart.js`); the server streams the file from there.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

SYSTEM_CHART_JS = [
    Path("/usr/share/javascript/chart.js/chart.min.js"),  # Debian/Ubuntu libjs-chart.js
    Path("/usr/share/nodejs/chart.js/dist/chart.min.js"),  # Debian node-chart.js
    Path("/usr/share/nodejs/chart.js/dist/chart.umd.js"),
]
_UNDER_PREFIX = ["node_modules/chart.js/dist/chart.umd.js",
                 "node_modules/chart.js/dist/chart.min.js", "chart.umd.js", "chart.min.js"]


def chart_js_candidates(assets_dir: Optional[Path]) -> List[Path]:
    """Files tried in order: under --assets-dir first, then the system packages."""
    found: List[Path] = []
    if assets_dir is not None:
        found += [assets_dir / name for name in _UNDER_PREFIX]
    return found + SYSTEM_CHART_JS


def find_chart_js(assets_dir: Optional[Path]) -> Optional[Path]:
    """The first Chart.js build that exists, or None (the page then shows numbers only)."""
    for path in chart_js_candidates(assets_dir):
        if path.is_file():
            return path
    return None


def missing_chart_js_hint(assets_dir: Optional[Path]) -> str:
    """What to do when no Chart.js is installed."""
    tried = ", ".join(str(p) for p in chart_js_candidates(assets_dir))
    return (f"no Chart.js found (tried {tried}); history charts are off. Install it with "
            "'apt-get install libjs-chart.js', or 'npm install --prefix DIR chart.js' and pass "
            "--assets-dir DIR")
