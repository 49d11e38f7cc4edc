"""Camera URLs: which forms the agent accepts and what each one means, checked as settings.

Pure string handling (no OpenCV), so `config check` can validate URLs without loading capture
code and the capture layer can pick a source from the classified URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from typing_extensions import Literal

from edge_agent.errors import ConfigError

UrlKind = Literal["file", "v4l2", "network", "csi"]
SUPPORTED_URL_FORMS = (
    "a file path or file:///path/video.avi, /dev/videoN or v4l2:///dev/videoN, "
    "rtsp://[user:pass@]host[:port]/path, rtsps://..., http(s)://..., "
    'csi://N (backend = "jetson" only)'
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")
_JETSON_NETWORK_SCHEMES = ("rtsp",)  # jetson-utils videoSource::Create: file, rtp, rtsp, webrtc
_SECRET_QUERY_KEYS = ("password", "passwd", "pwd", "pass", "token", "key")


@dataclass(frozen=True)
class CameraUrl:
    """A classified camera URL.

    location is what the backend opens: a file path (file:// stripped, %-escapes decoded), a
    device path, the full network URL, or the CSI sensor number.
    """

    kind: UrlKind
    location: str
    original: str

    @property
    def is_file(self) -> bool:
        """Files end; everything else is live and is reconnected instead."""
        return self.kind == "file"


def _config_error(url: str, why: str) -> ConfigError:
    return ConfigError(
        f"camera url {mask_url(url)!r} {why}", fix=f"use one of: {SUPPORTED_URL_FORMS}"
    )


def parse_camera_url(url: str, backend: str) -> CameraUrl:
    """Classify `url` for `backend` ('opencv' or 'jetson'); ConfigError when unsupported."""
    text = url.strip()
    if not text:
        raise _config_error(url, "is empty")
    match = _SCHEME.match(text)
    if match is None:
        if text.isdigit():
            raise _config_error(
                url, "is a bare number; write /dev/videoN for USB or csi://N for CSI cameras"
            )
        if text.startswith("/dev/"):
            return CameraUrl("v4l2", text, url)
        return CameraUrl("file", text, url)
    scheme = match.group(1).lower()
    rest = text[match.end() :]
    if scheme == "file":
        if not rest:
            raise _config_error(url, "has no path after file://")
        return CameraUrl("file", unquote(rest), url)
    if scheme == "v4l2":
        if not rest.startswith("/dev/"):
            raise _config_error(url, "must name a device such as v4l2:///dev/video0")
        return CameraUrl("v4l2", rest, url)
    if scheme == "csi":
        if backend != "jetson":
            raise ConfigError(
                f"camera url {url!r} is a CSI camera, which needs backend 'jetson'",
                fix='set backend = "jetson" for this camera (jetson-utils on a Jetson)',
            )
        if not rest.isdigit():
            raise _config_error(url, "must name a sensor number such as csi://0")
        return CameraUrl("csi", rest, url)
    if scheme in _NETWORK_SCHEMES:
        if backend == "jetson" and scheme not in _JETSON_NETWORK_SCHEMES:
            raise ConfigError(
                f"camera url {mask_url(url)!r} uses {scheme}://, which jetson-utils cannot open",
                fix='use backend = "opencv" for this camera, or an rtsp:// URL',
            )
        return CameraUrl("network", text, url)
    raise _config_error(url, f"uses the unsupported scheme {scheme}://")


def mask_url(url: str) -> str:
    """Replace the password in user:pass@host (and secret query values) with ***."""
    if not _SCHEME.match(url.strip()):
        return url
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_QUERY_KEYS for k, _ in pairs):
            masked = [(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs]
            query = urlencode(masked, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
