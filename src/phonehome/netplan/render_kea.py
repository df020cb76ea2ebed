"""A complete Kea DHCPv4 configuration (JSON) for the phones' scope.

Option 43 is defined per client class, the class matching option 60 ``MS-UC-Client`` exactly
(Kea allows redefining option 43 only inside a class). Option values are hex (``csv-format``
false) so that Kea sends the codecs' bytes, except option 119: Kea refuses to redefine it and
re-encodes the list without compression, so it is given as names (the peer test checks Kea's
bytes equal ``DomainSearch.uncompressed_wire``).
"""

from __future__ import annotations

import json
from typing import Any

from phonehome.netplan.opt_names import DomainSearch
from phonehome.netplan.optionbase import Option
from phonehome.netplan.options import value_of
from phonehome.netplan.site import DhcpPlan

CLASS_NAME = "MS-UC-Client"


def _data(option: Option) -> dict[str, Any]:
    if isinstance(option, DomainSearch):
        names = ", ".join(n.to_text(True) for n in option.names)
        return {"code": option.code, "csv-format": True, "data": names, "always-send": True}
    return {
        "code": option.code,
        "csv-format": False,
        "data": value_of(option).hex().upper(),
        "always-send": True,
    }


def kea_config(plan: DhcpPlan) -> dict[str, Any]:
    vendor = plan.vendor_options
    return {
        "Dhcp4": {
            "interfaces-config": {"interfaces": list(plan.interfaces) or ["*"]},
            "lease-database": {"type": "memfile", "lfc-interval": 3600},
            "valid-lifetime": plan.lease_seconds,
            "option-def": [{"name": "sip-server", "code": 120, "type": "binary"}],
            "client-classes": [
                {
                    "name": CLASS_NAME,
                    "test": f"option[60].text == '{plan.vendor_class}'",
                    "option-def": [{"name": "vendor-encapsulated-options", "code": 43, "type": "binary"}],
                    "option-data": [_data(vendor)],
                }
            ],
            "subnet4": [
                {
                    "id": 1,
                    "subnet": str(plan.subnet),
                    "pools": [{"pool": f"{plan.pool_start} - {plan.pool_end}"}],
                    "option-data": [_data(o) for o in plan.options],
                }
            ],
        }
    }


def render_kea(plan: DhcpPlan) -> str:
    return json.dumps(kea_config(plan), indent=2) + "\n"
