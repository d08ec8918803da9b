"""A worked keactl hook library (see keactl-hooks(7)).

Configure it in Dhcp4 "hooks-libraries":

    { "library": "examples/hooks/mac_policy.py",
      "parameters": { "blocked-macs": [ "02:00:00:00:00:66" ],
                      "lease-log": "/tmp/leases.log",
                      "motd": "hello from keactl" } }

- pkt4_receive drops every packet from a blocked MAC address;
- pkt4_send adds option 252 (wpad) carrying "motd" to each OFFER and ACK;
- leases4_committed appends "ADDRESS MAC" to lease-log for every lease stored;
- the control command "mac-policy-get" lists the blocked addresses and how many
  packets were dropped.

State lives in the module object keactl creates for this configuration: a
reload loads a fresh copy.
"""
from kea_tools.codec.option import Option
from kea_tools.server.hooks import DROP

blocked = set()
settings = {}
dropped = 0


def load(library):
    """Called once per configuration with the entry's parameters."""
    params = library.parameters
    macs = params.get("blocked-macs", [])
    if not isinstance(macs, list):
        raise ValueError("blocked-macs must be a list of MAC addresses")
    blocked.update(bytes.fromhex(m.replace(":", "")) for m in macs)
    settings["lease-log"] = params.get("lease-log")
    settings["motd"] = params.get("motd", "")
    library.register_command("mac-policy-get", policy_get)


def policy_get(arguments):
    return {"result": 0, "text": f"{len(blocked)} blocked MAC address(es)",
            "arguments": {"blocked-macs": sorted(m.hex(":") for m in blocked),
                          "dropped": dropped}}


def pkt4_receive(handle):
    global dropped
    query = handle.get_argument("query4")
    if query.mac in blocked:
        dropped += 1
        handle.set_status(DROP)


def pkt4_send(handle):
    response = handle.get_argument("response4")
    if settings["motd"] and response.msg_type in (2, 5):
        response.options.append(Option(252, settings["motd"].encode()))


def leases4_committed(handle):
    path = settings.get("lease-log")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as fh:
        for lease in handle.get_argument("leases4"):
            fh.write(f"{lease.address} {lease.hwaddr.hex(':') if lease.hwaddr else '-'}\n")


def unload():
    blocked.clear()
    settings.clear()
