"""The lease_cmds and stat_cmds commands (Kea's libdhcp_lease_cmds.so and
libdhcp_stat_cmds.so), for both families.

kea-dhcp4 and kea-dhcp6 both list the lease4-* and lease6-* commands when
lease_cmds is loaded; a command of the other family is listed and refused (see
:func:`kea_tools.server.control.execute`). The shared commands (get-all,
get-page, get-by-hostname, wipe, get, del, add, update) are written once over a
:class:`LeaseFamily`; what really differs (how a lease is named and what an
add/update must carry) has one function per family. Texts and result codes are
kea-dhcp4/kea-dhcp6 2.2's (captured from the real servers:
tests/server/data/kea22-control-responses.txt, tests/server6/kea22-lease6-responses.txt).
"""
from dataclasses import dataclass
from datetime import datetime

from kea_tools.errors import UserError
from kea_tools.leases import DuplicateLeaseError, LeaseError
from kea_tools.leases.jsonfmt import lease_from_json, lease_to_json
from kea_tools.leases.model import STATE_DECLINED, TYPE_BY_NAME, TYPE_PD, parse_hex

from kea_tools.server.control import EMPTY, ERROR, OK, CommandError, answer, arguments, require
from kea_tools.server.model import int_to_ip, int_to_ip6, ip6_to_int, ip_to_int
from kea_tools.server.stats import subnet_stat


@dataclass(slots=True, frozen=True)
class LeaseFamily:
    """What the shared lease commands need to know about one family."""

    version: int
    label: str              # "IPv4", as in Kea's texts
    to_int: object          # address text -> int (the lease table's key)
    find: object            # (daemon, args) -> lease or None
    parse: object           # (daemon, args) -> lease to add/update


def address_arg(fam, args, key="ip-address"):
    value = require(args, key)
    try:
        return fam.to_int(value)
    except (OSError, TypeError):
        raise CommandError(f"Failed to convert '{value}' to address: invalid address") from None


def hex_arg(args, key):
    if key not in args:
        raise CommandError(f"'{key}' parameter not specified")
    value = args[key]
    try:
        return parse_hex(value)
    except (ValueError, AttributeError):
        raise CommandError(f"'{value}' is not a valid string of hexadecimal digits") from None


def write(daemon, put=(), delete=()):
    """Stage and commit; the statistics follow the new lease table."""
    table = daemon.leases
    for lease in put:
        table.stage_put(lease)
    for lease in delete:
        table.stage_delete(lease)
    if table.commit():
        raise CommandError("the lease database refused the change")
    daemon.refresh_lease_stats()


def _subnet_for(daemon, fam, lease, address, pd=False):
    """The lease's subnet (subnet selection when subnet-id is 0 or missing)."""
    model = daemon.model
    if not lease.subnet_id:
        if pd:
            raise CommandError("Subnet-id is 0 or not specified. This is allowed for address "
                               "leases only, not prefix leases.")
        sub = model.subnet_containing(address)
        if sub is None:
            raise CommandError("subnet-id not specified and failed to find a subnet for "
                               f"address {lease.address}")
        lease.subnet_id = sub.id
        return sub
    sub = model.subnets_by_id.get(lease.subnet_id)
    if sub is None:
        raise CommandError(f"Invalid subnet-id: No {fam.label} subnet with subnet-id="
                           f"{lease.subnet_id} currently configured.")
    if not pd and address not in sub:
        raise CommandError(f"The address {lease.address} does not belong to subnet "
                           f"{sub.prefix}, subnet-id={sub.id}")
    return sub


# --- v4: naming and input ---------------------------------------------------------------

def find_lease4(daemon, args):
    """By ip-address, or by identifier-type + identifier + subnet-id (Kea's forms)."""
    if "ip-address" in args:
        return daemon.leases.get(address_arg(V4, args))
    kind = args.get("identifier-type")
    ident = args.get("identifier")
    if kind is None or ident is None:
        raise CommandError("Mandatory 'ip-address' parameter missing (or identifier-type, "
                           "identifier and subnet-id)")
    subnet_id = require(args, "subnet-id")
    value = hex_arg(args, "identifier")
    if kind == "hw-address":
        found = daemon.leases.by_hwaddr(value)
    elif kind == "client-id":
        found = daemon.leases.by_client_id(value)
    else:
        raise CommandError(f"Incorrect identifier type: {kind}, the only supported values "
                           "are: address, hw-address, duid")
    return next((lease for lease in found if lease.subnet_id == subnet_id), None)


def parse_lease4(daemon, args):
    args = arguments(args)
    require(args, "ip-address")
    if "hw-address" not in args:
        raise CommandError("missing parameter 'hw-address' (<wire>:0:0)")
    try:
        lease = lease_from_json(args, 4)
    except UserError as err:
        raise CommandError(str(err)) from None
    sub = _subnet_for(daemon, V4, lease, ip_to_int(lease.address))
    if "valid-lft" not in args:
        lease.valid_lft = sub.valid_lifetime
        if "expire" in args:
            lease.cltt = args["expire"] - lease.valid_lft
    return lease


# --- v6: naming and input ---------------------------------------------------------------

def _lease_type(args):
    kind = args.get("type", "IA_NA")
    if kind not in TYPE_BY_NAME:
        raise CommandError(f"Invalid lease type specified: {kind}, only supported values are: "
                           "IA_NA, IA_TA, IA_PD and V4")
    return TYPE_BY_NAME[kind]


def find_lease6(daemon, args):
    """By ip-address (+type), or by duid + iaid + subnet-id (+type) (Kea's forms)."""
    kind = _lease_type(args)
    if "ip-address" in args:
        lease = daemon.leases.get(address_arg(V6, args))
        return lease if lease is not None and lease.type == kind else None
    # Kea's order of complaints when there is no ip-address.
    for key in ("subnet-id", "identifier-type", "identifier", "iaid"):
        if key not in args:
            raise CommandError(f"Mandatory '{key}' parameter missing.")
    ident_type = args["identifier-type"]
    if ident_type == "hw-address":
        raise CommandError("Query by hw-address is not allowed in v6.")
    if ident_type != "duid":
        raise CommandError(f"Incorrect identifier type: {ident_type}, the only supported "
                           "values are: address, hw-address, duid")
    iaid, subnet_id = args["iaid"], args["subnet-id"]
    for lease in daemon.leases.by_duid(hex_arg(args, "identifier")):
        if lease.iaid == iaid and lease.subnet_id == subnet_id and lease.type == kind:
            return lease
    return None


def parse_lease6(daemon, args):
    """lease6-add / lease6-update arguments -> a Lease6 checked against the config."""
    args = arguments(args)
    require(args, "ip-address")
    for key in ("duid", "iaid"):
        if key not in args:
            raise CommandError(f"missing parameter '{key}' (<wire>:0:0)")
    kind = _lease_type(args)
    if kind == TYPE_PD and "prefix-len" not in args:
        raise CommandError("missing parameter 'prefix-len' (<wire>:0:0)")
    try:
        lease = lease_from_json(args, 6)
    except UserError as err:
        raise CommandError(str(err)) from None
    if kind == TYPE_PD and lease.state == STATE_DECLINED:
        raise CommandError("Invalid declined state for PD prefix.")
    sub = _subnet_for(daemon, V6, lease, ip6_to_int(lease.address), pd=kind == TYPE_PD)
    if "valid-lft" not in args:
        lease.valid_lft = sub.valid[0]
        if "expire" in args:
            lease.cltt = args["expire"] - lease.valid_lft
    if "preferred-lft" not in args:
        # kea-dhcp6 2.2 gives a lease added without preferred-lft the subnet's
        # valid lifetime (seen on the real server), not its preferred one.
        lease.preferred_lft = sub.valid[0]
    return lease


V4 = LeaseFamily(4, "IPv4", ip_to_int, find_lease4, parse_lease4)
V6 = LeaseFamily(6, "IPv6", ip6_to_int, find_lease6, parse_lease6)


# --- the commands of both families ------------------------------------------------------

def _what(lease):
    if getattr(lease, "type", None) == TYPE_PD:
        return f"prefix {lease.address}/{lease.prefix_len}"
    return f"address {lease.address}"


def lease_add(fam, daemon, args):
    lease = fam.parse(daemon, args)
    if daemon.leases.get(fam.to_int(lease.address)) is not None:
        raise CommandError(f"{fam.label} lease already exists.")
    try:
        write(daemon, put=[lease])
    except (DuplicateLeaseError, LeaseError) as err:
        raise CommandError(str(err)) from None
    return answer(OK, f"Lease for {_what(lease)}, subnet-id {lease.subnet_id} added.")


def lease_update(fam, daemon, args):
    lease = fam.parse(daemon, args)
    missing = daemon.leases.get(fam.to_int(lease.address)) is None
    if missing and not arguments(args).get("force-create", False):
        raise CommandError(f"failed to update the lease with address {lease.address} either "
                           "because the lease has been deleted or it has changed in the "
                           "database, in both cases a retry might succeed")
    write(daemon, put=[lease])
    return answer(OK, f"{fam.label} lease {'added' if missing else 'updated'}.")


def lease_get(fam, daemon, args):
    lease = fam.find(daemon, arguments(args))
    if lease is None:
        return answer(EMPTY, "Lease not found.")
    return answer(OK, f"{fam.label} lease found.", lease_to_json(lease))


def lease_del(fam, daemon, args):
    args = arguments(args)
    update_ddns = args.get("update-ddns", False)
    if not isinstance(update_ddns, bool):
        raise CommandError("'update-ddns' is not a boolean")
    lease = fam.find(daemon, args)
    if lease is None:
        return answer(EMPTY, f"{fam.label} lease not found.")
    write(daemon, delete=[lease])
    sender = daemon.sender
    if update_ddns and sender is not None:
        sender.remove(lease)
    return answer(OK, f"{fam.label} lease deleted.")


def leases_answer(fam, leases):
    leases = sorted(leases, key=lambda lease: fam.to_int(lease.address))
    return answer(OK if leases else EMPTY, f"{len(leases)} {fam.label} lease(s) found.",
                  {"leases": [lease_to_json(lease) for lease in leases]})


def lease_get_all(fam, daemon, args):
    args = arguments(args)
    leases = daemon.leases.by_addr.values()
    subnets = args.get("subnets")
    if subnets is not None:
        if not isinstance(subnets, list):
            raise CommandError("'subnets' parameter must be a list")
        wanted = set(subnets)
        leases = [lease for lease in leases if lease.subnet_id in wanted]
    return leases_answer(fam, leases)


def lease_get_page(fam, daemon, args):
    args = arguments(args)
    for key in ("from", "limit"):
        if key not in args:
            raise CommandError(f"'{key}' parameter not specified")
    start, limit = args["from"], args["limit"]
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise CommandError("page size of retrieved leases must not be 0")
    after = -1
    if start != "start":
        try:
            after = fam.to_int(start)
        except (OSError, TypeError):
            raise CommandError("'from' parameter value is neither 'start' keyword nor a valid "
                               f"{fam.label} address") from None
    by_addr = daemon.leases.by_addr
    leases = [by_addr[a] for a in sorted(a for a in by_addr if a > after)[:limit]]
    return answer(OK if leases else EMPTY, f"{len(leases)} {fam.label} lease(s) found.",
                  {"leases": [lease_to_json(lease) for lease in leases], "count": len(leases)})


def lease_get_by_hostname(fam, daemon, args):
    name = require(arguments(args), "hostname")
    if not isinstance(name, str) or not name:
        raise CommandError("'hostname' parameter is empty")
    name = name.lower()
    return leases_answer(fam, [lease for lease in daemon.leases.by_addr.values()
                               if lease.hostname.lower() == name])


def lease_wipe(fam, daemon, args):
    subnet_id = arguments(args).get("subnet-id")
    every = subnet_id in (None, 0)
    victims = [lease for lease in daemon.leases.by_addr.values()
               if every or lease.subnet_id == subnet_id]
    write(daemon, delete=victims)
    where = " ".join(str(s.id) for s in daemon.model.subnets) if every else str(subnet_id)
    return answer(OK if victims else EMPTY,
                  f"Deleted {len(victims)} {fam.label} lease(s) from subnet(s) {where}")


def lease_resend_ddns(fam, daemon, args):
    """Queue the lease's DNS add again (Kea's texts and checks, in its order)."""
    address = address_arg(fam, arguments(args))
    sender = daemon.sender
    if sender is None:
        raise CommandError("DDNS updating is not enabled")
    lease = daemon.leases.by_addr.get(address)
    text = int_to_ip(address) if fam.version == 4 else int_to_ip6(address)
    if lease is None:
        return answer(EMPTY, f"No lease found for: {text}")
    if not lease.hostname:
        raise CommandError(f"Lease for: {text}, has no hostname, nothing to update")
    if not (lease.fqdn_fwd or lease.fqdn_rev):
        raise CommandError(f"Neither forward nor reverse updates enabled for lease for: {text}")
    sender.resend(lease)
    return answer(OK, f"NCR generated for: {text}, hostname: {lease.hostname}")


def lease4_get_by_hw_address(daemon, args):
    return leases_answer(V4, daemon.leases.by_hwaddr(hex_arg(arguments(args), "hw-address")))


def lease4_get_by_client_id(daemon, args):
    return leases_answer(V4, daemon.leases.by_client_id(hex_arg(arguments(args), "client-id")))


def lease6_get_by_duid(daemon, args):
    return leases_answer(V6, daemon.leases.by_duid(hex_arg(arguments(args), "duid")))


def lease6_bulk_apply(daemon, args):
    """Deletions first, then adds/updates; failures listed, the rest applied."""
    args = arguments(args)
    if "deleted-leases" not in args and "leases" not in args:
        raise CommandError("neither 'deleted-leases' nor 'leases' parameter specified")
    failed_del, failed_add, done = [], [], 0
    for item in args.get("deleted-leases") or []:
        entry = {"ip-address": item.get("ip-address"), "type": item.get("type", "IA_NA")}
        try:
            lease = find_lease6(daemon, arguments(item))
            if lease is None:
                failed_del.append({**entry, "result": EMPTY, "error-message": "lease not found"})
                continue
            write(daemon, delete=[lease])
            done += 1
        except (CommandError, UserError) as err:
            failed_del.append({**entry, "result": ERROR, "error-message": str(err)})
    for item in args.get("leases") or []:
        entry = {"ip-address": item.get("ip-address"), "type": item.get("type", "IA_NA")}
        try:
            write(daemon, put=[parse_lease6(daemon, item)])
            done += 1
        except (CommandError, UserError) as err:
            failed_add.append({**entry, "result": ERROR, "error-message": str(err)})
    out = {}
    if failed_del:
        out["failed-deleted-leases"] = failed_del
    if failed_add:
        out["failed-leases"] = failed_add
    return answer(OK, f"Bulk apply of {done} IPv6 leases completed.", out or None)


# --- stat_cmds ------------------------------------------------------------------------

STAT_LEASE_COLUMNS = {
    4: ["subnet-id", "total-addresses", "assigned-addresses", "declined-addresses"],
    6: ["subnet-id", "total-nas", "cumulative-assigned-nas", "assigned-nas", "declined-nas",
        "total-pds", "cumulative-assigned-pds", "assigned-pds"],
}


def _stat_rows4(daemon, subnets, counts):
    return [[sub.id, sub.total_addresses, *counts.get(sub.id, (0, 0, 0))[:2]]
            for sub in subnets]


def _stat_rows6(daemon, subnets, counts):
    value = daemon.stats.value
    rows = []
    for sub in subnets:
        na, declined, pd = counts.get(sub.id, (0, 0, 0))
        rows.append([sub.id, sub.total_nas,
                     value(subnet_stat(sub.id, "cumulative-assigned-nas")), na + declined,
                     declined, sub.total_pds,
                     value(subnet_stat(sub.id, "cumulative-assigned-pds")), pd])
    return rows


def stat_lease_get(fam, rows_of, daemon, args):
    """Per-subnet lease counts from the lease table, in Kea's columns."""
    args = arguments(args)
    subnets = daemon.model.subnets
    label = "all subnets"
    if "subnet-id" in args:
        sid = args["subnet-id"]
        label = f"subnet-id={sid}"
        if sid not in daemon.model.subnets_by_id:
            return answer(EMPTY, f"stat-lease{fam.version}-get[{label}]: no matching data, "
                                 f"subnet-id: {sid} does not exist", {})
        subnets = [daemon.model.subnets_by_id[sid]]
    counts = {}   # subnet-id -> [assigned addresses, declined, assigned prefixes]
    for lease in daemon.leases.by_addr.values():
        c = counts.setdefault(lease.subnet_id, [0, 0, 0])
        if lease.state == STATE_DECLINED:
            c[1] += 1
        elif lease.state == 0:
            c[2 if getattr(lease, "type", None) == TYPE_PD else 0] += 1
    rows = rows_of(daemon, subnets, counts)
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    result = {"result-set": {"columns": STAT_LEASE_COLUMNS[fam.version], "rows": rows,
                             "timestamp": stamp}}
    return answer(OK if rows else EMPTY,
                  f"stat-lease{fam.version}-get[{label}]: {len(rows)} rows found", result)


def _bind(function, *first):
    def handler(daemon, args):
        return function(*first, daemon, args)
    handler.__name__ = function.__name__
    return handler


def lease_commands():
    """name -> (handler, feature, family) for control.COMMANDS."""
    table = {}
    for fam in (V4, V6):
        n = fam.version
        for suffix, function in (("add", lease_add), ("update", lease_update),
                                 ("get", lease_get), ("del", lease_del),
                                 ("get-all", lease_get_all), ("get-page", lease_get_page),
                                 ("get-by-hostname", lease_get_by_hostname),
                                 ("wipe", lease_wipe), ("resend-ddns", lease_resend_ddns)):
            table[f"lease{n}-{suffix}"] = (_bind(function, fam), "lease_cmds", n)
    table["lease4-get-by-hw-address"] = (lease4_get_by_hw_address, "lease_cmds", 4)
    table["lease4-get-by-client-id"] = (lease4_get_by_client_id, "lease_cmds", 4)
    table["lease6-get-by-duid"] = (lease6_get_by_duid, "lease_cmds", 6)
    table["lease6-bulk-apply"] = (lease6_bulk_apply, "lease_cmds", 6)
    table["stat-lease4-get"] = (_bind(stat_lease_get, V4, _stat_rows4), "stat_cmds", 4)
    table["stat-lease6-get"] = (_bind(stat_lease_get, V6, _stat_rows6), "stat_cmds", 6)
    return table
