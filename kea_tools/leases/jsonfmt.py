"""Leases as Kea's lease_cmds JSON (lease4-get / lease6-get / *-get-all elements)."""
import time

from kea_tools.errors import UserError
from kea_tools.leases.csvfmt import fix_kea_bytes
from kea_tools.leases.model import (STATE_BY_NAME, TYPE_BY_NAME, TYPE_NAMES, TYPE_PD, Lease4,
                                    Lease6, format_hex, norm_address, parse_hex)


def lease_to_json(lease):
    """A lease -> the map Kea's lease4-get / lease6-get return."""
    if lease.family == 4:
        out = {"ip-address": lease.address, "hw-address": format_hex(lease.hwaddr)}
        if lease.client_id:
            out["client-id"] = format_hex(lease.client_id)
        out.update({"subnet-id": lease.subnet_id, "cltt": lease.cltt,
                    "valid-lft": lease.valid_lft})
    else:
        out = {"ip-address": lease.address, "type": TYPE_NAMES[lease.type]}
        if lease.type == TYPE_PD:
            out["prefix-len"] = lease.prefix_len
        out.update({"iaid": lease.iaid, "duid": format_hex(lease.duid),
                    "subnet-id": lease.subnet_id, "cltt": lease.cltt,
                    "preferred-lft": lease.preferred_lft, "valid-lft": lease.valid_lft})
    out.update({"fqdn-fwd": lease.fqdn_fwd, "fqdn-rev": lease.fqdn_rev,
                "hostname": lease.hostname})
    if lease.family == 6 and lease.hwaddr:
        out["hw-address"] = format_hex(lease.hwaddr)
    out["state"] = lease.state
    if lease.pool_id:
        out["pool-id"] = lease.pool_id
    if lease.user_context:
        out["user-context"] = lease.user_context
    return out


def _int(data, key, default, lo=0, hi=0xFFFFFFFF):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise UserError(f"{key}: expected an integer in {lo}..{hi}, got {value!r}")
    return value


def _bool(data, key):
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise UserError(f"{key}: expected true or false, got {value!r}")
    return value


def _hex(data, key):
    value = data.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise UserError(f"{key}: expected a hex string, got {value!r}")
    try:
        return parse_hex(value)
    except ValueError as err:
        raise UserError(f"{key}: {err}") from None


def lease_from_json(data, family, *, now=None):
    """Kea's lease JSON (lease4-add / lease6-add arguments) -> a lease.

    Accepts ``cltt`` or ``expire``; ``state`` as a number or its name; v6 ``type``
    as "IA_NA"/"IA_TA"/"IA_PD" or a number. UserError on bad values.
    """
    if not isinstance(data, dict):
        raise UserError("a lease must be a JSON map")
    try:
        address = norm_address(str(data.get("ip-address", "")), family)
    except ValueError as err:
        raise UserError(str(err)) from None
    now = int(time.time()) if now is None else now
    valid = _int(data, "valid-lft", 3600)
    if "cltt" in data:
        cltt = _int(data, "cltt", 0, hi=2**62)
    elif "expire" in data:
        cltt = _int(data, "expire", 0, hi=2**62) - valid
    else:
        cltt = now
    state = data.get("state", 0)
    if isinstance(state, str):
        if state not in STATE_BY_NAME:
            raise UserError(f"state: unknown state {state!r}")
        state = STATE_BY_NAME[state]
    state = _int({"state": state}, "state", 0, hi=2)
    hostname = data.get("hostname", "") or ""
    if not isinstance(hostname, str):
        raise UserError(f"hostname: expected a string, got {hostname!r}")
    context = data.get("user-context")
    if context is not None and not isinstance(context, dict):
        raise UserError("user-context: expected a map")
    if context is not None:
        # Kea's JSON writes each UTF-8 byte of a string as its own \u00XX.
        context = fix_kea_bytes(context)
    common = {"valid_lft": valid, "cltt": cltt, "subnet_id": _int(data, "subnet-id", 0),
              "pool_id": _int(data, "pool-id", 0), "fqdn_fwd": _bool(data, "fqdn-fwd"),
              "fqdn_rev": _bool(data, "fqdn-rev"), "hostname": hostname, "state": state,
              "user_context": context}
    if family == 4:
        return Lease4(address, hwaddr=_hex(data, "hw-address"),
                      client_id=_hex(data, "client-id"), **common)
    kind = data.get("type", 0)
    if isinstance(kind, str):
        if kind not in TYPE_BY_NAME:
            raise UserError(f"type: unknown lease type {kind!r} (IA_NA, IA_TA or IA_PD)")
        kind = TYPE_BY_NAME[kind]
    kind = _int({"type": kind}, "type", 0, hi=2)
    plen = _int(data, "prefix-len", 128 if kind != TYPE_PD else 0, lo=0, hi=128)
    return Lease6(address, duid=_hex(data, "duid"), iaid=_int(data, "iaid", 0), type=kind,
                  prefix_len=plen, preferred_lft=_int(data, "preferred-lft", valid),
                  hwaddr=_hex(data, "hw-address"), **common)
