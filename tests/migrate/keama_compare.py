"""Compare a migrated Kea config with keama's expected output, by content.

Names and comments may differ; what must agree is the set of subnets, pools,
pd-pools, reservations, option data and client classes (the issue's criterion).
"""
import json
import re


def strip_comments(text):
    """Kea JSON with whole-line ``#`` / ``//`` comments -> strict JSON text."""
    keep = []
    for line in text.splitlines():
        s = line.lstrip()
        if s.startswith("#") or s.startswith("//"):
            continue
        keep.append(line)
    return "\n".join(keep)


def load(text):
    return json.loads(strip_comments(text))


def _subnets(dhcp):
    out = []
    for k in ("subnet4", "subnet6"):
        out.extend(dhcp.get(k, []))
        for sn in dhcp.get("shared-networks", []):
            out.extend(sn.get(k, []))
    return out


def _norm_data(opt):
    data = str(opt.get("data", ""))
    if opt.get("csv-format") is False:
        return "hex:" + re.sub(r"[^0-9a-f]", "", data.lower().replace("0x", ""))
    return "csv:" + re.sub(r"\s+", "", data)


def _options(where, opts, acc, family):
    for o in opts or []:
        space = o.get("space") or ("dhcp4" if family == 4 else "dhcp6")
        acc.add((where, space, o.get("code", o.get("name")), _norm_data(o)))


def _norm_test(test):
    # keama writes some bytes raw inside a quoted literal; compare them as hex.
    test = re.sub(r"'([^']*)'", lambda m: m.group(0) if m.group(1).isprintable()
                  else "0x" + m.group(1).encode("latin-1").hex(), test)
    return re.sub(r"[\s()]", "", test)


def summary(doc):
    """The comparable content of a Kea config."""
    fam = "Dhcp4" if "Dhcp4" in doc else "Dhcp6"
    d = doc[fam]
    subs = _subnets(d)
    family = 4 if fam == "Dhcp4" else 6
    classes = {c["name"]: c for c in d.get("client-classes", [])}

    def pool_class(name):
        # Generated permit classes compare by their test, built-ins by membership.
        if name is None:
            return None
        if name in classes and name.startswith("gen#"):
            return _norm_test(classes[name].get("test", ""))
        return _norm_test(f"member('{name}')")

    s = {"subnets": set(), "pools": set(), "pd-pools": set(), "reservations": set(),
         "options": set(), "classes": set()}
    _options("global", d.get("option-data"), s["options"], family)
    for sn in d.get("shared-networks", []):
        _options("shared", sn.get("option-data"), s["options"], family)
    res = list(d.get("reservations", []))
    for sub in subs:
        s["subnets"].add(sub["subnet"])
        for p in sub.get("pools", []):
            s["pools"].add((sub["subnet"], re.sub(r"\s+", "", p["pool"]), pool_class(p.get("client-class"))))
            _options("pool", p.get("option-data"), s["options"], family)
        for p in sub.get("pd-pools", []):
            s["pd-pools"].add((sub["subnet"], p["prefix"], p["prefix-len"], p["delegated-len"]))
            _options("pool", p.get("option-data"), s["options"], family)
        _options("subnet", sub.get("option-data"), s["options"], family)
        res.extend(sub.get("reservations", []))
    for r in res:
        ident = next(((k, r[k]) for k in ("hw-address", "client-id", "duid", "circuit-id", "flex-id")
                      if k in r), None)
        s["reservations"].add((ident, r.get("ip-address"), tuple(r.get("ip-addresses", ())),
                               tuple(r.get("prefixes", ()))))
        _options("host", r.get("option-data"), s["options"], family)
    for c in d.get("client-classes", []):
        if c["name"].startswith("gen#"):
            continue
        s["classes"].add((c["name"], _norm_test(c.get("test", ""))))
        _options("class:" + c["name"], c.get("option-data"), s["options"], family)
    return s


def differences(ours, theirs):
    """Human-readable differences between two summaries (empty when equal)."""
    out = []
    for key in ours:
        a, b = ours[key], theirs[key]
        if a != b:
            out.append(f"{key}: only ours {sorted(map(str, a - b))} only keama {sorted(map(str, b - a))}")
    return out
