"""Sizes, pure: Kubernetes quantities (``500m``, ``4Gi``) and the vCPU / memory of AKS VM sizes.

Why a table and not a lookup: ``ContainerServiceClient`` knows a pool's VM size name only, not
its cores or memory. The authoritative source is the Compute resource SKU catalogue
(``Microsoft.Compute/skus``), which needs ``azure-mgmt-compute`` (or a raw ARM GET) and answers
with every SKU of a region — several MB and several seconds — and a Reader role on
``Microsoft.Compute`` the pipeline's identity often lacks. The doctor must run in seconds
with the identity the pipeline already has, so this module carries the families AKS node
pools commonly use, as rules (vCPU count from the name, GiB per vCPU from the family) plus the
irregular sizes spelled out. A size not covered is reported by the doctor as an "unknown size"
warning that names the ``az vm list-sizes`` command, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
_MEM = re.compile(r"^(\d+(?:\.\d+)?)([KMGTPE]i?|m)?$")
_MEM_FACTOR = {None: 1, "m": 1e-3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
               "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
GIB = 2**30


def cpu_cores(quantity: str | int | float | None) -> float | None:
    """``"500m"`` -> 0.5, ``"2"`` -> 2.0; None stays None. ValueError for anything else."""
    if quantity is None:
        return None
    m = _CPU.match(str(quantity).strip())
    if not m:
        raise ValueError(f"{quantity!r} is not a CPU quantity such as '2' or '500m'")
    value = float(m.group(1))
    return value / 1000 if m.group(2) else value


def memory_gib(quantity: str | int | float | None) -> float | None:
    """``"4Gi"`` -> 4.0, ``"512Mi"`` -> 0.5, ``"1G"`` -> 0.93; None stays None."""
    if quantity is None:
        return None
    m = _MEM.match(str(quantity).strip())
    if not m:
        raise ValueError(f"{quantity!r} is not a memory quantity such as '4Gi' or '512Mi'")
    return float(m.group(1)) * _MEM_FACTOR[m.group(2)] / GIB


@dataclass(frozen=True)
class VmSize:
    name: str
    vcpus: int
    memory_gib: float


# Irregular sizes, spelled out (vCPU, GiB). Source: the Azure VM size pages of each series.
_EXPLICIT: dict[str, tuple[int, float]] = {
    "standard_b2s": (2, 4), "standard_b2ms": (2, 8), "standard_b4ms": (4, 16),
    "standard_b8ms": (8, 32), "standard_b12ms": (12, 48), "standard_b16ms": (16, 64),
    "standard_d1_v2": (1, 3.5), "standard_ds1_v2": (1, 3.5), "standard_d2_v2": (2, 7),
    "standard_ds2_v2": (2, 7), "standard_d3_v2": (4, 14), "standard_ds3_v2": (4, 14),
    "standard_d4_v2": (8, 28), "standard_ds4_v2": (8, 28), "standard_d5_v2": (16, 56),
    "standard_ds5_v2": (16, 56),
    "standard_nc6s_v3": (6, 112), "standard_nc12s_v3": (12, 224), "standard_nc24s_v3": (24, 448),
    "standard_nc4as_t4_v3": (4, 28), "standard_nc8as_t4_v3": (8, 56),
    "standard_nc16as_t4_v3": (16, 110), "standard_nc64as_t4_v3": (64, 440),
}

# Regular families: Standard_<letter><vCPUs><features>_<version>, GiB per vCPU fixed per family.
_FAMILY = re.compile(r"^standard_(?P<family>[def])(?P<vcpus>\d+)(?P<features>[a-z]*)_v(?P<version>[2-6])$")
_GIB_PER_VCPU = {"d": 4, "e": 8, "f": 2}
_FEATURES = {"", "s", "d", "ds", "a", "as", "ads", "ls", "lds", "pls", "pds", "ps"}
_VCPUS = {2, 4, 8, 16, 20, 32, 48, 64, 96}


def vm_size(name: str) -> VmSize | None:
    """vCPU and memory of an Azure VM size name (case-insensitive), or None when not known here."""
    key = name.strip().lower()
    if key in _EXPLICIT:
        vcpus, mem = _EXPLICIT[key]
        return VmSize(name, vcpus, mem)
    m = _FAMILY.match(key)
    if not m or m["features"] not in _FEATURES or int(m["vcpus"]) not in _VCPUS:
        return None
    family, vcpus = m["family"], int(m["vcpus"])
    per = _GIB_PER_VCPU[family]
    if m["version"] == "2" and family != "f":
        return None  # D/E v2 are irregular: spelled out above or unknown
    if family == "d" and "l" in m["features"]:
        per = 2  # Dlsv5/Dldsv5: 2 GiB per vCPU
    return VmSize(name, vcpus, float(vcpus * per))
