"""``keactl leases`` (the lease-database shell) and ``keactl db`` (schema set-up)."""
import importlib
import ipaddress
import json
import os
import sys
import time
from datetime import datetime, timezone

import click
from tabulate import tabulate

from kea_tools.errors import SourceError, UserError
from kea_tools.leases.backend import check_lease
from kea_tools.leases.jsonfmt import lease_from_json, lease_to_json
from kea_tools.leases.model import (INFINITE_LFT, STATE_BY_NAME, STATE_NAMES, TYPE_NAMES,
                                    addr_key, format_hex, norm_address, parse_hex)

CONTEXT = {"help_option_names": ["-h", "--help"]}
FORMATS = ("table", "json", "csv")
# Words that open an ISC dhcpd.leases file (after comments).
ISC_OPENERS = ("lease ", "server-duid", "authoring-byte-order", "ia-na ", "ia-ta ", "ia-pd ",
               "failover ", "host ", "class ", "subclass ")
ISC_IMPORTER = "kea_tools.migrate.leases_import"


class _Holder:
    """The LeaseSource of one `keactl leases` invocation (shared by the shell's verbs)."""

    def __init__(self, source):
        self.source = source


def _src():
    return click.get_current_context().find_object(_Holder).source


# -- rendering ------------------------------------------------------------------
def _when(lease):
    if lease.valid_lft == INFINITE_LFT:
        return "never"
    return datetime.fromtimestamp(lease.expire, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _state(lease):
    return STATE_NAMES.get(lease.state, str(lease.state))


def _table_rows(leases, family):
    if family == 4:
        headers = ["address", "hw-address", "client-id", "subnet", "state", "expires (UTC)",
                   "hostname"]
        rows = [[l.address, format_hex(l.hwaddr), format_hex(l.client_id), l.subnet_id,
                 _state(l), _when(l), l.hostname] for l in leases]
    else:
        headers = ["address", "type", "duid", "iaid", "subnet", "state", "expires (UTC)",
                   "hostname"]
        rows = [[f"{l.address}/{l.prefix_len}" if l.type == 2 else l.address,
                 TYPE_NAMES[l.type], format_hex(l.duid), l.iaid, l.subnet_id, _state(l),
                 _when(l), l.hostname] for l in leases]
    return headers, rows


def emit(leases, family, fmt, out=None):
    """Print leases as a table, Kea's lease*-get-all JSON list, or Kea memfile CSV."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump([lease_to_json(l) for l in leases], out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif fmt == "csv":
        from kea_tools.leases.csvfmt import FORMAT_ROW, HEADER
        out.write(HEADER[family] + "\n")
        row = FORMAT_ROW[family]
        for lease in leases:
            out.write(row(lease))
    else:
        headers, rows = _table_rows(leases, family)
        out.write(tabulate(rows, headers=headers, disable_numparse=True) + "\n")


# -- option helpers ------------------------------------------------------------
def _hex_option(value, name):
    try:
        return parse_hex(value)
    except ValueError as err:
        raise UserError(f"{name}: {err}") from None


def _state_option(value):
    if value is None:
        return None
    if value in STATE_BY_NAME:
        return STATE_BY_NAME[value]
    if value.isdigit() and int(value) in STATE_NAMES:
        return int(value)
    raise UserError(f"--state: unknown state {value!r} (default, declined, expired-reclaimed)")


def _pool_filter(text):
    """--pool: a pool-id number, a range a-b or a prefix -> predicate on a lease."""
    if text.isdigit():
        pid = int(text)
        return lambda lease: lease.pool_id == pid
    try:
        if "-" in text:
            lo, hi = (int(ipaddress.ip_address(p.strip())) for p in text.split("-", 1))
        else:
            net = ipaddress.ip_network(text, strict=False)
            lo, hi = int(net.network_address), int(net.broadcast_address)
    except ValueError:
        raise UserError(f"--pool: expected a pool id, FIRST-LAST or PREFIX/LEN, got {text!r}") \
            from None
    return lambda lease: lo <= addr_key(lease.address) <= hi


def select(backend, family, *, subnet=None, pool=None, state=None, hw_address=None,
           client_id=None, duid=None, hostname=None, active=None, limit=None, page=1,
           now=None):
    """The leases a `list` asks for, in address order, one page of them."""
    now = int(time.time()) if now is None else now
    checks = []
    if pool is not None:
        checks.append(_pool_filter(pool))
    if state is not None:
        checks.append(lambda l: l.state == state)
    if active is True:
        checks.append(lambda l: l.state == 0 and not l.is_expired(now))
    elif active is False:
        checks.append(lambda l: l.is_expired(now))
    # The most selective index first; the other filters run over its answer.
    if hw_address is not None:
        candidates = backend.get_by_hwaddr(_hex_option(hw_address, "--hw-address"), subnet)
    elif client_id is not None:
        candidates = backend.get_by_client_id(_hex_option(client_id, "--client-id"), subnet)
    elif duid is not None:
        candidates = backend.get_by_duid(_hex_option(duid, "--duid"), subnet_id=subnet)
    elif hostname is not None:
        candidates = backend.get_by_hostname(hostname)
    else:
        candidates = None
    if hostname is not None:
        checks.append(lambda l: l.hostname.lower() == hostname.lower())
    skip = (page - 1) * limit if limit else 0
    wanted = None if limit is None else skip + limit
    if candidates is not None:
        found = sorted((l for l in candidates if all(c(l) for c in checks)
                        and (subnet is None or l.subnet_id == subnet)),
                       key=lambda l: addr_key(l.address))
        return found[skip:wanted]
    # Page through the back end (it filters by subnet itself); unfiltered small
    # pages cost one query of exactly the size asked for.
    found, after = [], None
    chunk = wanted if wanted and not checks else 1000
    while wanted is None or len(found) < wanted:
        batch = backend.get_page(after, chunk, subnet)
        found.extend(l for l in batch if all(c(l) for c in checks))
        if len(batch) < chunk:
            break
        after = batch[-1].address
    return found[skip:wanted]


# -- the group -------------------------------------------------------------------
@click.group("leases", context_settings=CONTEXT, invoke_without_command=False)
@click.option("-c", "--config", metavar="KEA.json",
              help="Use the lease-database of this Kea config.")
@click.option("--db", "url", metavar="URL",
              help="memfile:/path.csv, sqlite:///path.db or postgresql://user@host/db.")
@click.option("--socket", "socket_path", metavar="PATH",
              help="A running server's control socket (Kea with lease_cmds, or keactl).")
@click.option("-4", "family", flag_value=4, help="DHCPv4 leases (the default).")
@click.option("-6", "family", flag_value=6, help="DHCPv6 leases.")
@click.pass_context
def leases(ctx, config, url, socket_path, family):
    """Inspect and edit a lease database (memfile, sqlite, postgresql, or a live server).

    Writes to a memfile that a running server holds open go through that
    server's control channel (--socket, or the config's control-socket).
    """
    from kea_tools.leases.source import LeaseSource
    if ctx.resilient_parsing:
        return
    source = LeaseSource(config=config, url=url, socket=socket_path, family=family)
    ctx.obj = _Holder(source)
    ctx.call_on_close(source.close)


def _filter_options(func):
    for option in reversed([
        click.option("--subnet", type=int, metavar="ID", help="Only this subnet-id."),
        click.option("--pool", metavar="POOL", help="Pool id, FIRST-LAST range or PREFIX/LEN."),
        click.option("--state", metavar="STATE", help="default, declined or expired-reclaimed."),
        click.option("--hw-address", metavar="HEX", help="Hardware address."),
        click.option("--client-id", metavar="HEX", help="Client identifier (v4)."),
        click.option("--duid", metavar="HEX", help="DUID (v6)."),
        click.option("--hostname", metavar="NAME", help="Hostname (case-insensitive)."),
        click.option("--active/--expired", default=None,
                     help="Only leases still valid / only expired ones."),
    ]):
        func = option(func)
    return func


@leases.command("list", context_settings=CONTEXT)
@_filter_options
@click.option("--limit", type=click.IntRange(1), metavar="N", help="At most N leases.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True,
              help="Which page of --limit leases.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def list_cmd(subnet, pool, state, hw_address, client_id, duid, hostname, active, limit, page,
             fmt):
    """List leases in address order (filters combine)."""
    source = _src()
    backend = source.open()
    found = select(backend, source.family, subnet=subnet, pool=pool, state=_state_option(state),
                   hw_address=hw_address, client_id=client_id, duid=duid, hostname=hostname,
                   active=active, limit=limit, page=page)
    emit(found, source.family, fmt)


@leases.command("show", context_settings=CONTEXT)
@click.argument("address")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True)
def show_cmd(address, fmt):
    """Show the lease of one address."""
    source = _src()
    address = _address(address, source.family)
    lease = source.open().get(address)
    if lease is None:
        raise UserError(f"no lease for {address}")
    data = lease_to_json(lease)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    data["expires (UTC)"] = _when(lease)
    data["state"] = f"{lease.state} ({_state(lease)})"
    rows = [[k, json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list, bool)) else v]
            for k, v in data.items()]
    click.echo(tabulate(rows, tablefmt="plain", disable_numparse=True))


def _address(text, family):
    try:
        return norm_address(text, family)
    except ValueError as err:
        raise UserError(str(err)) from None


def _field_options(func):
    for option in reversed([
        click.option("--hw-address", metavar="HEX"),
        click.option("--client-id", metavar="HEX", help="v4 client identifier."),
        click.option("--duid", metavar="HEX", help="v6 DUID."),
        click.option("--iaid", type=int, help="v6 IAID."),
        click.option("--type", "lease_type", type=click.Choice(("IA_NA", "IA_TA", "IA_PD")),
                     help="v6 lease type."),
        click.option("--prefix-len", type=click.IntRange(1, 128), help="v6 prefix length."),
        click.option("--subnet-id", type=int, metavar="ID",
                     help="Subnet (default: the configured subnet holding the address)."),
        click.option("--valid-lft", type=click.IntRange(0, INFINITE_LFT), metavar="SECONDS"),
        click.option("--preferred-lft", type=click.IntRange(0, INFINITE_LFT), metavar="SECONDS"),
        click.option("--cltt", type=int, metavar="UNIXTIME", help="Client last transmission time."),
        click.option("--expire", type=int, metavar="UNIXTIME", help="Expiry (sets cltt)."),
        click.option("--hostname", metavar="NAME"),
        click.option("--fqdn-fwd/--no-fqdn-fwd", default=None),
        click.option("--fqdn-rev/--no-fqdn-rev", default=None),
        click.option("--state", metavar="STATE", help="default, declined or expired-reclaimed."),
        click.option("--user-context", metavar="JSON", help="A JSON map."),
        click.option("--json", "json_text", metavar="JSON",
                     help="The whole lease as Kea's lease*-add JSON (options override it)."),
    ]):
        func = option(func)
    return func


def _fields(opts):
    """Options of add/update -> a partial Kea lease JSON map."""
    data = {}
    if opts.get("json_text"):
        try:
            data = json.loads(opts["json_text"])
        except ValueError as err:
            raise UserError(f"--json: {err}") from None
        if not isinstance(data, dict):
            raise UserError("--json: expected a JSON map")
    names = {"hw_address": "hw-address", "client_id": "client-id", "duid": "duid",
             "iaid": "iaid", "lease_type": "type", "prefix_len": "prefix-len",
             "subnet_id": "subnet-id", "valid_lft": "valid-lft",
             "preferred_lft": "preferred-lft", "cltt": "cltt", "expire": "expire",
             "hostname": "hostname", "fqdn_fwd": "fqdn-fwd", "fqdn_rev": "fqdn-rev"}
    for opt, key in names.items():
        if opts.get(opt) is not None:
            data[key] = opts[opt]
    if opts.get("state") is not None:
        data["state"] = _state_option(opts["state"])
    if opts.get("user_context") is not None:
        try:
            data["user-context"] = json.loads(opts["user_context"])
        except ValueError as err:
            raise UserError(f"--user-context: {err}") from None
    if "expire" in data and "cltt" in data:
        raise UserError("give --cltt or --expire, not both")
    return data


def _check_subnet(source, data, address):
    """Kea's subnet rules for lease*-add: a known subnet that holds the address."""
    subnets = source.subnets()
    sid = data.get("subnet-id")
    if subnets is None:
        if not sid:
            raise UserError("--subnet-id is needed (no configuration to select a subnet from)")
        return
    ip = ipaddress.ip_address(address)
    if not sid:
        match = [s.id for s in subnets.values() if ip in s.prefix]
        if not match:
            raise UserError(f"no configured subnet holds {address}")
        data["subnet-id"] = match[0]
        return
    if sid not in subnets:
        raise UserError(f"unknown subnet-id {sid}")
    if ip not in subnets[sid].prefix:
        raise UserError(f"{address} does not belong to subnet {sid} ({subnets[sid].prefix})")


@leases.command("add", context_settings=CONTEXT)
@click.argument("address")
@_field_options
def add_cmd(address, **opts):
    """Add a lease (refused if the address already has one)."""
    source = _src()
    data = _fields(opts)
    data["ip-address"] = _address(address, source.family)
    _check_subnet(source, data, data["ip-address"])
    lease = lease_from_json(data, source.family)
    source.open(write=True).add(lease)
    click.echo(f"added {lease.address} (subnet {lease.subnet_id})")


@leases.command("update", context_settings=CONTEXT)
@click.argument("address")
@_field_options
def update_cmd(address, **opts):
    """Change fields of an existing lease (the others keep their values)."""
    source = _src()
    address = _address(address, source.family)
    backend = source.open(write=True)
    current = backend.get(address)
    if current is None:
        raise UserError(f"no lease for {address}")
    data = lease_to_json(current)
    changes = _fields(opts)
    if "expire" in changes:
        data.pop("cltt")
    data.update(changes)
    if "subnet-id" in changes:
        _check_subnet(source, data, address)
    lease = lease_from_json(data, source.family)
    backend.update(lease)
    click.echo(f"updated {address}")


@leases.command("del", context_settings=CONTEXT)
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
def del_cmd(addresses):
    """Delete the leases of these addresses (all of them, or none)."""
    source = _src()
    wanted = [_address(a, source.family) for a in addresses]
    backend = source.open(write=True)
    missing = [a for a in wanted if backend.get(a) is None]
    if missing:
        raise UserError(f"no lease for {', '.join(missing)}")
    with backend.batch():
        for address in wanted:
            backend.delete(address)
    click.echo(f"deleted {len(wanted)} lease(s)")


@leases.command("wipe", context_settings=CONTEXT)
@click.option("--subnet", type=int, metavar="ID", help="Delete the leases of this subnet.")
@click.option("--all", "everything", is_flag=True, help="Delete every lease.")
def wipe_cmd(subnet, everything):
    """Delete all leases of one subnet (or, with --all, every lease)."""
    if (subnet is None) == (not everything):
        raise UserError("give --subnet ID or --all")
    source = _src()
    subnets = source.subnets()
    if subnet is not None and subnets is not None and subnet not in subnets:
        raise UserError(f"unknown subnet-id {subnet}")
    count = source.open(write=True).wipe(subnet)
    click.echo(f"deleted {count} lease(s)")


@leases.command("stats", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table",
              show_default=True)
def stats_cmd(fmt):
    """Per subnet: total, assigned, declined, free addresses and utilisation."""
    source = _src()
    counts = source.open().counts()
    subnets = source.subnets() or {}
    keys = sorted({(s, t) for s, t, _ in counts} |
                  {(s.id, t) for s in subnets.values() for t in ((0, 2) if source.family == 6
                                                                 else (0,))
                   if s.total(t)})
    rows = []
    for sid, ltype in keys:
        assigned = counts.get((sid, ltype, 0), 0)
        declined = counts.get((sid, ltype, 1), 0)
        total = subnets[sid].total(ltype) if sid in subnets else None
        row = {"subnet-id": sid, "total": total, "assigned": assigned, "declined": declined,
               "free": None if total is None else max(total - assigned - declined, 0),
               "utilisation": None if not total
               else round(100.0 * (assigned + declined) / total, 2)}
        if source.family == 6:
            row = {"subnet-id": sid, "type": TYPE_NAMES[ltype], **{k: v for k, v in row.items()
                                                                   if k != "subnet-id"}}
        rows.append(row)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    table = [[("-" if v is None else f"{v:.2f}%" if k == "utilisation" else v)
              for k, v in r.items()] for r in rows]
    headers = list(rows[0]) if rows else ["subnet-id", "total", "assigned", "declined", "free",
                                           "utilisation"]
    click.echo(tabulate(table, headers=headers, disable_numparse=True))


@leases.command("export", context_settings=CONTEXT)
@click.option("--format", "fmt", type=click.Choice(("csv", "json", "sqlite")), default="csv",
              show_default=True, help="csv is Kea's memfile format.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), metavar="FILE")
@click.option("--force", is_flag=True, help="Overwrite FILE.")
def export_cmd(fmt, output, force):
    """Write every lease to FILE."""
    source = _src()
    if os.path.exists(output) and not force:
        raise UserError(f"{output} exists (use --force to overwrite it)")
    found = sorted(source.open().iter_leases(), key=lambda l: addr_key(l.address))
    try:
        if fmt == "csv":
            from kea_tools.leases.lfc import write_lease_file
            write_lease_file(output, source.family, found)
        elif fmt == "json":
            with open(output, "w", encoding="utf-8") as fh:
                emit(found, source.family, "json", fh)
        else:
            from kea_tools.leases import open_backend
            if os.path.exists(output):
                os.unlink(output)
            with open_backend(f"sqlite:///{os.path.abspath(output)}", source.family) as target:
                target.add_many(found)
    except OSError as err:
        raise UserError(f"{output}: {err.strerror}") from None
    click.echo(f"exported {len(found)} lease(s) to {output}")


def detect_format(path):
    """'kea-csv4', 'kea-csv6', 'json' or 'isc' from the start of a lease file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError as err:
        raise UserError(f"{path}: {err.strerror}") from None
    for line in head.splitlines():
        text = line.strip()
        if not text:
            continue
        if text.startswith("address,duid"):
            return "kea-csv6"
        if text.startswith("address,"):
            return "kea-csv4"
        if text[0] in "[{":
            return "json"
        if text.startswith("#") or text.startswith(ISC_OPENERS):
            return "isc"
        break
    raise SourceError("not a lease file this importer knows (Kea CSV, Kea JSON, ISC "
                      "dhcpd.leases)", path, 1, 1)


def _json_leases(path, family):
    """(line, col, lease map) for each lease of a JSON file (list, {"leases"}, a Kea reply)."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    decoder = json.JSONDecoder()

    def where(offset):
        line = text.count("\n", 0, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    try:
        whole = json.loads(text)
    except ValueError as err:
        raise SourceError(f"bad JSON: {err.msg}", path, err.lineno, err.colno) from None
    body = whole
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict) \
            and "arguments" in body[0]:
        body = body[0]
    if isinstance(body, dict):
        body = body.get("arguments", body)
        body = body.get("leases") if isinstance(body, dict) else None
        if not isinstance(body, list):
            raise SourceError("expected a list of leases (or a map with \"leases\")", path, 1, 1)
        start = text.find("[", text.find('"leases"'))
    else:
        if not isinstance(body, list):
            raise SourceError("expected a list of leases", path, 1, 1)
        start = text.find("[")
    # Walk the array again with offsets, so each lease has a line and column.
    pos, out = start + 1, []
    for item in body:
        while text[pos] in " \t\r\n,":
            pos += 1
        _, end = decoder.raw_decode(text, pos)
        out.append((*where(pos), item))
        pos = end
    return out


def read_import(path, family, fmt):
    """Leases of a Kea CSV or JSON file, strictly: any bad entry is a SourceError."""
    if fmt.startswith("kea-csv"):
        file_family = 6 if fmt == "kea-csv6" else 4
        if file_family != family:
            raise SourceError(f"this is a DHCPv{file_family} lease file; use -{file_family}",
                              path, 1, 1)
        from kea_tools.leases.csvfmt import read_rows
        final = {}
        for _, lease in read_rows(path, family, strict=True):
            if lease.valid_lft == 0:
                final.pop(lease.address, None)
            else:
                final[lease.address] = lease
        return list(final.values())
    found = {}
    for line, col, item in _json_leases(path, family):
        try:
            lease = check_lease(lease_from_json(item, family), family)
        except UserError as err:
            raise SourceError(str(err), path, line, col) from None
        if lease.address in found:
            raise SourceError(f"{lease.address}: listed twice", path, line, col)
        found[lease.address] = lease
    return list(found.values())


@leases.command("import", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True, help="Overwrite leases that already exist.")
@click.option("--dry-run", is_flag=True, help="Check FILE, store nothing.")
@click.option("--all-states", is_flag=True,
              help="ISC dhcpd.leases: also import free/expired/abandoned leases.")
def import_cmd(file, replace, dry_run, all_states):
    """Import Kea memfile CSV, Kea lease JSON or an ISC dhcpd.leases file.

    All leases are checked first; on any error nothing is stored.
    """
    source = _src()
    fmt = detect_format(file)
    if fmt == "isc":
        try:
            importer = importlib.import_module(ISC_IMPORTER)
        except ModuleNotFoundError:
            raise UserError(f"{file}: an ISC dhcpd.leases file, but the dhcpd.leases importer "
                            f"({ISC_IMPORTER}) is not installed") from None
        backend = source.open(write=not dry_run)
        section = source.section
        if section is None and source.socket:
            source.subnets()
            section = source.socket_section
        config = {f"Dhcp{source.family}": section} if section is not None else None
        summary = importer.import_isc_leases(file, backend, config=config,
                                             all_states=all_states, dry_run=dry_run,
                                             family=source.family)
        rows = summary.rows() if hasattr(summary, "rows") else [("result", str(summary))]
        click.echo(tabulate(rows, tablefmt="plain", disable_numparse=True))
        return
    found = read_import(file, source.family, fmt)
    if dry_run:
        click.echo(f"{file}: {len(found)} lease(s) would be imported")
        return
    subnets = source.subnets()
    if subnets is not None:
        for lease in found:
            if lease.subnet_id not in subnets:
                raise UserError(f"{file}: {lease.address}: unknown subnet-id {lease.subnet_id}")
    backend = source.open(write=True)
    backend.add_many(found, replace=replace)
    click.echo(f"imported {len(found)} lease(s) from {file}")


@leases.command("shell", context_settings=CONTEXT)
@click.option("--history", type=click.Path(dir_okay=False), metavar="FILE",
              help="History file (default ~/.keactl_leases_history).")
@click.pass_context
def shell_cmd(ctx, history):
    """An interactive prompt with the same verbs, history and tab completion."""
    from kea_tools.leases.shell import LeaseShell
    shell = LeaseShell(ctx.parent, history)
    failures = shell.run()
    if failures:
        raise UserError(f"{failures} shell command(s) failed")


# -- keactl db -----------------------------------------------------------------------
@click.group("db", context_settings=CONTEXT)
def db():
    """Create and inspect lease databases (Kea 2.2's PostgreSQL schema, sqlite, memfile)."""


def _spec(url):
    from kea_tools.leases import parse_spec
    return parse_spec(url)


@db.command("init", context_settings=CONTEXT)
@click.argument("url")
@click.option("-4", "family", flag_value=4, default=True, help="memfile: a DHCPv4 file.")
@click.option("-6", "family", flag_value=6, help="memfile: a DHCPv6 file.")
def db_init(url, family):
    """Create Kea 2.2's schema at URL when it is missing (what `kea-admin db-init` does)."""
    spec = _spec(url)
    if spec["type"] == "postgresql":
        from kea_tools.leases.pgsql import init_schema
        created, version = init_schema(spec)
        what = "created" if created else "already has"
        click.echo(f"{spec['name']}: {what} Kea schema {version[0]}.{version[1]}")
        return
    if spec["type"] == "memfile" and not spec.get("name"):
        raise UserError("memfile: give a file name (memfile:/path/leases4.csv)")
    from kea_tools.leases import open_backend
    existed = os.path.exists(spec["name"]) and os.path.getsize(spec["name"]) > 0
    if spec["type"] == "memfile":
        spec["lfc-interval"] = 0
    with open_backend(spec, family):
        pass
    click.echo(f"{spec['name']}: {'already exists' if existed else 'created'}")


@db.command("version", context_settings=CONTEXT)
@click.argument("url")
def db_version(url):
    """Print the schema version at URL (as `kea-admin db-version` does)."""
    spec = _spec(url)
    if spec["type"] == "postgresql":
        from kea_tools.leases.pgsql import _psycopg2, connect_args, schema_version
        pg = _psycopg2()
        try:
            conn = pg.connect(**connect_args(spec))
        except pg.OperationalError as err:
            raise UserError(f"postgresql: {str(err).strip().splitlines()[0]}") from None
        try:
            version = schema_version(conn)
        finally:
            conn.close()
        if version is None:
            raise UserError(f"{spec['name']}: no Kea schema (run `keactl db init`)")
        click.echo(f"{version[0]}.{version[1]}")
    elif spec["type"] == "sqlite":
        from kea_tools.leases.sqlite import SqliteBackend
        if not os.path.exists(spec["name"]):
            raise UserError(f"{spec['name']}: no such file")
        backend = SqliteBackend(4, spec["name"], readonly=True)
        try:
            version = backend.schema_version()
        finally:
            backend.close()
        click.echo(f"{version[0]}.{version[1]}")
    else:
        from kea_tools.leases.csvfmt import file_layout
        name = spec.get("name")
        if not name or not os.path.exists(name):
            raise UserError(f"{name}: no lease file")
        family = 6 if detect_format(name) == "kea-csv6" else 4
        layout = file_layout(name, family)
        if layout is None:
            raise UserError(f"{name}: an empty lease file")
        # Kea's memfile schema versions by column count (lease4 2.1 / 3.0, lease6 4.0 / 5.0).
        names = {(4, 9): "1.0", (4, 10): "2.0", (4, 11): "2.1", (4, 12): "3.0",
                 (6, 12): "1.0", (6, 13): "2.0", (6, 14): "3.0", (6, 15): "3.1",
                 (6, 17): "4.0", (6, 18): "5.0"}
        click.echo(names.get((family, layout.count), f"{layout.count} columns"))
