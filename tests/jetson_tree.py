"""Builds Jetson sysfs/procfs trees under a temporary root from the captures in fixtures/jetson.

The captures are listings (`type=cpu-thermal temp=47500`, `Channel 1: label=VDD_GPU_SOC
voltage=843mV current=6170mA`); the device readers want files, so this writes the files those
listings describe. Values not in any capture (Nano IIO rail files, GPU devfreq) are synthetic and
named as such where they are written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict

FIXTURES = Path(__file__).parent / "fixtures" / "jetson"
NANO_COMPATIBLE = "nvidia,p3449-0000-b00+p3448-0000-b00\0nvidia,jetson-nano\0nvidia,tegra210\0"
AGX_ORIN_COMPATIBLE = (
    "nvidia,p3737-0000+p3701-0005\0nvidia,p3701-0005\0nvidia,tegra234\0nvidia,tegra23x\0"
)
CLARA_AGX_COMPATIBLE = (
    "nvidia,e3900-0000+p2888-0004\0nvidia,galen\0nvidia,jetson-xavier\0nvidia,tegra194\0"
)

# Synthetic nvpmodel.conf in NVIDIA's grammar (the real files are not redistributable); mode
# names and caps follow jetson-facts.md §2.3 for the AGX Orin 64GB / devkit conf.
AGX_ORIN_CONF = """
< PARAM TYPE=FILE NAME=CPU_ONLINE >
CORE_0 /sys/devices/system/cpu/cpu0/online
<PARAM TYPE=CLOCK NAME=GPU >
MAX_FREQ /sys/devices/platform/17000000.gpu/devfreq_dev/max_freq
< POWER_MODEL ID=0 NAME=MAXN >
CPU_ONLINE CORE_0 1
CPU_ONLINE CORE_1 1
CPU_A78_0 MAX_FREQ -1
GPU MAX_FREQ -1
EMC MAX_FREQ 0
< POWER_MODEL ID=1 NAME=MODE_15W >
CPU_ONLINE CORE_0 1
CPU_ONLINE CORE_1 0
CPU_A78_0 MAX_FREQ 1113600
CPU_A78_1 MAX_FREQ 1113600
GPU MAX_FREQ 408000000 # comment
< POWER_MODEL ID=2 NAME=MODE_30W >
CPU_ONLINE CORE_0 1
CPU_ONLINE CORE_1 1
CPU_A78_0 MAX_FREQ 1728000
GPU MAX_FREQ 624750000
< POWER_MODEL ID=3 NAME=MODE_50W >
CPU_ONLINE CORE_0 1
CPU_ONLINE CORE_1 1
GPU MAX_FREQ 828750000
< PM_CONFIG DEFAULT=2 >
"""


def write(root: Path, absolute: str, text: str) -> Path:
    """Write `text` at `absolute` re-rooted under `root`."""
    path = root / absolute.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def orin_thermal(root: Path) -> None:
    """Thermal zones from the AGX Orin JP6.0 capture; EAGAIN zones get an unreadable temp."""
    text = (FIXTURES / "thermal" / "agx-orin__jp6.0__zones.txt").read_text(encoding="utf-8")
    for zone, zone_type, temp in re.findall(r"(thermal_zone\d+)/\s+type=(\S+)\s+temp=(\S+)", text):
        write(root, f"/sys/class/thermal/{zone}/type", zone_type + "\n")
        if temp == "EAGAIN":  # a directory named temp: reading it fails like EAGAIN does
            (root / "sys/class/thermal" / zone / "temp").mkdir(parents=True)
        else:
            write(root, f"/sys/class/thermal/{zone}/temp", temp + "\n")


def nano_thermal(root: Path) -> None:
    """Thermal zones from the Nano capture (°C converted back to millidegrees)."""
    text = (FIXTURES / "thermal" / "nano__type_temp_paste.txt").read_text(encoding="utf-8")
    for index, (zone_type, celsius) in enumerate(re.findall(r"(\S+)\s+([\d.]+)", text)):
        write(root, f"/sys/class/thermal/thermal_zone{index}/type", zone_type + "\n")
        write(root, f"/sys/class/thermal/thermal_zone{index}/temp",
              f"{int(float(celsius) * 1000)}\n")


def orin_rails(root: Path) -> Dict[str, float]:
    """hwmon INA3221 files from the AGX Orin capture; returns the expected mW per rail."""
    text = (FIXTURES / "power" / "agx-orin__jp6.0__ina3221_channels.txt").read_text("utf-8")
    expected: Dict[str, float] = {}
    device = ""
    for line in text.splitlines():
        header = re.match(r"=== (\S+) ===", line)
        if header:
            device = header.group(1)
            continue
        match = re.search(r"Channel (\d): label=(\S+)\s+voltage=(\S+)\s+current=(\S+)", line)
        if not match:
            continue
        channel, label, volts, amps = match.groups()
        write(root, f"{device}/in{channel}_label", ("" if label == "(empty)" else label) + "\n")
        if volts != "N/A":
            write(root, f"{device}/in{channel}_input", volts.rstrip("mV") + "\n")
            write(root, f"{device}/curr{channel}_input", amps.rstrip("mA") + "\n")
            expected[label] = int(volts.rstrip("mV")) * int(amps.rstrip("mA")) / 1000.0
    write(root, "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3/in7_label",
          "sum of shunt voltages\n")
    return expected


def nano_rails(root: Path) -> None:
    """JP4 IIO layout; mW values are the first numbers of the Nano tegrastats capture."""
    base = "/sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0"
    for channel, (name, mw) in enumerate((("POM_5V_IN", 4520), ("POM_5V_GPU", 0),
                                          ("POM_5V_CPU", 1078))):
        write(root, f"{base}/rail_name_{channel}", name + "\n")
        write(root, f"{base}/in_power{channel}_input", f"{mw}\n")


def orin_gpu(root: Path, load_permille: int = 512, cur_hz: int = 624750000) -> None:
    """Orin JP6 devfreq entry (synthetic values)."""
    base = "/sys/class/devfreq/17000000.gpu"
    write(root, f"{base}/device/of_node/name", "gpu\0")
    write(root, f"{base}/device/load", f"{load_permille}\n")
    write(root, f"{base}/cur_freq", f"{cur_hz}\n")
    write(root, f"{base}/max_freq", "1300500000\n")


def agx_orin_tree(root: Path, status: str = "pmode:0002 fmode:quiet\n") -> Path:
    """A complete AGX Orin (JP6.0) tree; returns the root."""
    write(root, "/proc/device-tree/compatible", AGX_ORIN_COMPATIBLE)
    write(root, "/proc/device-tree/model", "Jetson AGX Orin\0")
    write(root, "/etc/nv_tegra_release", "# R36 (release), REVISION: 3.0, GCID: 1, BOARD: "
          "generic, EABI: aarch64, DATE: x\n# KERNEL_VARIANT: oot\n")
    write(root, "/etc/nvpmodel.conf", AGX_ORIN_CONF)
    if status:
        write(root, "/var/lib/nvpmodel/status", status)
    orin_thermal(root)
    orin_rails(root)
    orin_gpu(root)
    for name, value in (("name", "soctherm_oc"), ("oc1_event_cnt", "0"),
                        ("oc2_event_cnt", "3"), ("oc3_event_cnt", "0")):
        write(root, f"/sys/class/hwmon/hwmon5/{name}", value + "\n")
    write(root, "/sys/class/hwmon/hwmon0/name", "cpu_thermal\n")
    return root


def nano_tree(root: Path) -> Path:
    """A Jetson Nano (JP4) tree with the IIO rail layout; no nvpmodel status file."""
    write(root, "/proc/device-tree/compatible", NANO_COMPATIBLE)
    release = (FIXTURES / "identity" / "nv_tegra_release" / "r32.3.1__nano.txt").read_text()
    write(root, "/etc/nv_tegra_release", release)
    nano_thermal(root)
    nano_rails(root)
    return root
