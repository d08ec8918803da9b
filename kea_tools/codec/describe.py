"""Packets as plain data (for ``keactl decode --json`` and the golden tests), and
as text (``keactl decode``).

``describe_packet(pkt, defs=None) -> dict``, for a Packet4, Packet6 or Relay6:

v4::

    {"family": 4, "op", "htype", "hlen", "hops", "xid" (int), "secs", "flags",
     "ciaddr", "yiaddr", "siaddr", "giaddr", "chaddr" (colon hex of the first
     hlen bytes, at most 16), "sname", "file" (text up to the first NUL; "" when
     option overload uses the field), "msg-type" (int or null), "options": [...]}

v6: ``{"family": 6, "msg-type", "xid" (transaction-id), "options": [...]}``;
relays: ``{"family": 6, "msg-type": 12|13, "hop-count", "link-address",
"peer-address", "options": [...]}`` where the relay-msg option (9) also has
``"message"``: the inner message in the same form.

Each option: ``{"code": int, "name": Kea name or null, "value": str}``. The value
is what Kea's option-data "data" would hold with csv-format true (records and
arrays joined with ", ", commas in text escaped as ``\\,``); options without a
definition, binary fields and undecodable payloads are lowercase hex without
separators. Options that encapsulate others (82, 43 in its vendor space, 125,
v6 17, IA_NA/IA_TA/IA_PD, IAADDR, IAPREFIX, s46 containers, ...) add
``"options"``: a list of the same shape, named from the encapsulated space. A
v4 125 carrying several enterprises appears once per enterprise. A payload that
does not match its definition keeps its hex value and adds ``"error"``.
"""
from kea_tools.codec.errors import CodecError
from kea_tools.codec.optiondefs import OptionDefs, suboptions
from kea_tools.codec.v4 import Packet4, MessageType4
from kea_tools.codec.v6 import MessageType6, OPT_RELAY_MSG, Relay6

OPT_VIVSO = 125
OPT_VENDOR_OPTS = 17


def describe_packet(pkt, defs=None):
    if defs is None:
        defs = OptionDefs.standard()
    if isinstance(pkt, Packet4):
        return _describe4(pkt, defs)
    return _describe6(pkt, defs)


def _cstring(raw):
    return bytes(raw).split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


def _describe4(pkt, defs):
    overload = pkt.options.data(52) or b"\0"
    return {
        "family": 4, "op": pkt.op, "htype": pkt.htype, "hlen": pkt.hlen, "hops": pkt.hops,
        "xid": pkt.xid, "secs": pkt.secs, "flags": pkt.flags, "ciaddr": pkt.ciaddr,
        "yiaddr": pkt.yiaddr, "siaddr": pkt.siaddr, "giaddr": pkt.giaddr,
        "chaddr": ":".join(f"{b:02x}" for b in pkt.mac),
        "sname": "" if overload[0] & 2 else _cstring(pkt.sname),
        "file": "" if overload[0] & 1 else _cstring(pkt.file),
        "msg-type": pkt.msg_type,
        "options": describe_options(pkt.options, defs, 4, "dhcp4"),
    }


def _describe6(msg, defs):
    if isinstance(msg, Relay6):
        out = {"family": 6, "msg-type": msg.msg_type, "hop-count": msg.hop_count,
               "link-address": msg.link_address, "peer-address": msg.peer_address}
        out["options"] = describe_options(msg.options, defs, 6, "dhcp6")
        if msg.inner is not None:
            for entry in out["options"]:
                if entry["code"] == OPT_RELAY_MSG:
                    entry["message"] = _describe6(msg.inner, defs)
                    break
        return out
    return {"family": 6, "msg-type": msg.msg_type, "xid": msg.transaction_id,
            "options": describe_options(msg.options, defs, 6, "dhcp6")}


def describe_options(options, defs, universe, space):
    """Describe a list of options of ``space`` (see the module docstring)."""
    out = []
    for opt in options:
        defn = defs.get(space, opt.code, universe) if space else None
        if defn is None:
            out.append({"code": opt.code, "name": None, "value": opt.data.hex()})
            continue
        try:
            out.extend(_describe_defined(opt, defn, defs, universe))
        except CodecError as err:
            out.append({"code": opt.code, "name": defn.name, "value": opt.data.hex(),
                        "error": str(err)})
    return out


def _describe_defined(opt, defn, defs, universe):
    if defn.suboption_space == "vendor":
        value = defn.decode(opt.data)
        blocks = value if isinstance(value, list) else [value]
        return [{"code": opt.code, "name": defn.name, "value": str(block.enterprise),
                 "options": describe_options(block.options, defs, universe,
                                             f"vendor-{block.enterprise}")}
                for block in blocks]
    entry = {"code": opt.code, "name": defn.name, "value": defn.to_text(opt.data)}
    sub = suboptions(defs, defn, opt.data)
    if sub is not None:
        entry["options"] = describe_options(sub[1], defs, universe, sub[0])
    return [entry]


# --- text ----------------------------------------------------------------------------
def _type_name(family, msg_type):
    enum = MessageType4 if family == 4 else MessageType6
    try:
        return f"{enum(msg_type).name} ({msg_type})"
    except ValueError:
        return f"unknown ({msg_type})"


def format_packet(desc, indent=""):
    """Human-readable lines for a described packet, in the manner of Kea's dumps."""
    lines = []
    if desc["family"] == 4:
        mt = desc["msg-type"]
        lines.append(f"{indent}{'BOOTP' if mt is None else _type_name(4, mt)} "
                     f"xid=0x{desc['xid']:08x} op={desc['op']} htype={desc['htype']} "
                     f"hlen={desc['hlen']} hops={desc['hops']} secs={desc['secs']} "
                     f"flags=0x{desc['flags']:04x}")
        lines.append(f"{indent}ciaddr={desc['ciaddr']} yiaddr={desc['yiaddr']} "
                     f"siaddr={desc['siaddr']} giaddr={desc['giaddr']}")
        lines.append(f"{indent}chaddr={desc['chaddr']} sname={desc['sname']!r} "
                     f"file={desc['file']!r}")
        width = 3
    elif "hop-count" in desc:
        lines.append(f"{indent}{_type_name(6, desc['msg-type'])} hop-count={desc['hop-count']} "
                     f"link-address={desc['link-address']} "
                     f"peer-address={desc['peer-address']}")
        width = 5
    else:
        lines.append(f"{indent}{_type_name(6, desc['msg-type'])} "
                     f"transid=0x{desc['xid']:06x}")
        width = 5
    lines.append(f"{indent}options:")
    lines.extend(_format_options(desc["options"], indent + "  ", width))
    return "\n".join(lines)


def _format_options(entries, indent, width):
    lines = []
    for entry in entries:
        name = entry["name"] or "(unknown)"
        head = f"{indent}type={entry['code']:0{width}d} {name}"
        if "message" in entry:
            lines.append(f"{head}:")
            lines.append(format_packet(entry["message"], indent + "  "))
            continue
        value = entry["value"]
        lines.append(f"{head}: {value}" if value != "" else f"{head}")
        if "error" in entry:
            lines.append(f"{indent}  ! {entry['error']}")
        if "options" in entry:
            lines.extend(_format_options(entry["options"], indent + "  ", width))
    return lines
