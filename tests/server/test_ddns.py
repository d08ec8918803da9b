"""DDNS: name processing (RFC 4702/4704 as Kea 2.2 does it), DHCID (RFC 4701),
NameChangeRequests, and the real peers: kea-dhcp4 as the oracle, kea-dhcp-ddns
as the receiver."""
import base64
import json
import socket
import sys

import pytest

from kea_tools.codec.option import Option, OptionList
from kea_tools.config import build
from kea_tools.errors import UserError
from kea_tools.leases.model import TYPE_PD, Lease4, Lease6
from kea_tools.server import ddns as D
from tests.conftest import ROOT, require_program, require_root

ON = D.DdnsParams.from_mapping({"ddns-qualifying-suffix": "example.com"}, True)
OFF = D.DdnsParams.from_mapping({"ddns-qualifying-suffix": "example.com"}, False)


def params(enabled=True, **kea):
    return D.DdnsParams.from_mapping({"ddns-qualifying-suffix": "example.com", **kea}, enabled)


def fqdn4(flags, name, ascii_form=False, rcodes=(0, 0)):
    if ascii_form:
        body = name.encode()
    else:
        flags |= D.FLAG4_E
        body = D.wire_name(name, name.endswith(".")) if name else b""
    return Option(81, bytes((flags, *rcodes)) + body)


def fqdn6(flags, name):
    return Option(39, bytes((flags,)) + (D.wire_name(name, name.endswith(".")) if name else b""))


def opts(*items):
    return OptionList(items)


# ---------------------------------------------------------------- option 81 flags

# (enabled, override-client-update, override-no-update, client S, client N)
#   -> (server N, S, O, fwd, rev)   (D2ClientMgr::analyzeFqdn + adjustFqdnFlags)
FLAG_TABLE = [
    (True, False, False, 0, 0, (0, 0, 0, False, True)),   # client does forward: reverse only
    (True, False, False, 1, 0, (0, 1, 0, True, True)),
    (True, False, False, 0, 1, (1, 0, 0, False, False)),
    (True, True, False, 0, 0, (0, 1, 1, True, True)),     # override client delegation
    (True, True, False, 1, 0, (0, 1, 0, True, True)),
    (True, False, True, 0, 1, (0, 1, 1, True, True)),     # override no-update
    (True, False, True, 0, 0, (0, 0, 0, False, True)),
    (True, True, True, 0, 1, (0, 1, 1, True, True)),
    (False, False, False, 0, 0, (1, 0, 0, False, False)),  # updates off: N=1 always
    (False, False, False, 1, 0, (1, 0, 1, False, False)),
    (False, True, True, 0, 1, (1, 0, 0, False, False)),
    (False, True, True, 0, 0, (1, 0, 0, False, False)),
]


@pytest.mark.parametrize("enabled,occ,ono,cs,cn,expected", FLAG_TABLE)
def test_fqdn4_flags(enabled, occ, ono, cs, cn, expected):
    p = params(enabled, **{"ddns-override-client-update": occ, "ddns-override-no-update": ono})
    client = (D.FLAG4_S if cs else 0) | (D.FLAG4_N if cn else 0)
    d = D.process_v4(p, opts(fqdn4(client, "host")), "", "192.0.2.10")
    f = d.option.data[0]
    got = (int(bool(f & D.FLAG4_N)), int(bool(f & D.FLAG4_S)), int(bool(f & D.FLAG4_O)),
           d.fwd, d.rev)
    assert got == expected
    assert f & D.FLAG4_E                      # the client's E flag is carried over
    assert d.hostname == "host.example.com."


@pytest.mark.parametrize("enabled,occ,ono,cs,cn,expected", FLAG_TABLE)
def test_fqdn6_flags(enabled, occ, ono, cs, cn, expected):
    p = params(enabled, **{"ddns-override-client-update": occ, "ddns-override-no-update": ono})
    client = (D.FLAG6_S if cs else 0) | (D.FLAG6_N if cn else 0)
    d = D.process_v6(p, opts(fqdn6(client, "host")), "", "2001:db8::1")
    f = d.option.data[0]
    got = (int(bool(f & D.FLAG6_N)), int(bool(f & D.FLAG6_S)), int(bool(f & D.FLAG6_O)),
           d.fwd, d.rev)
    assert got == expected


def test_n_and_s_together_drop_the_packet():
    d4 = D.decide_v4(ON, opts(fqdn4(D.FLAG4_N | D.FLAG4_S, "host")))
    d6 = D.decide_v6(ON, opts(fqdn6(D.FLAG6_N | D.FLAG6_S, "host")))
    assert d4.drop and d6.drop and "N and S" in d4.reason
    assert D.decide_v4(ON, opts(Option(81, b"\x01\x00"))).drop          # too short
    assert D.decide_v4(ON, opts(Option(81, b"\x05\x00\x00\x09ab"))).drop  # label past the end


def test_rcodes_are_echoed_and_ascii_form_kept():
    d = D.process_v4(ON, opts(fqdn4(D.FLAG4_S, "host5", ascii_form=True, rcodes=(255, 255))),
                     "", "192.0.2.10")
    assert d.option.data == b"\x01\xff\xffhost5.example.com."


def test_fqdn_wins_over_hostname_option():
    d = D.process_v4(ON, opts(Option(12, b"other"), fqdn4(D.FLAG4_S, "host")), "", "192.0.2.9")
    assert d.option.code == 81 and d.hostname == "host.example.com."


# ---------------------------------------------------------------- names

@pytest.mark.parametrize("mode,sent,expected", [
    ("never", "client", "client.example.com."),
    ("never", "", "myhost-192-0-2-10.example.com."),      # an empty name is generated
    ("never", None, None),
    ("always", "client", "myhost-192-0-2-10.example.com."),
    ("always", "", "myhost-192-0-2-10.example.com."),
    ("always", None, "myhost-192-0-2-10.example.com."),
    ("when-present", "client", "myhost-192-0-2-10.example.com."),
    ("when-present", None, None),
    ("when-not-present", "client", "client.example.com."),
    ("when-not-present", None, "myhost-192-0-2-10.example.com."),
])
def test_replace_client_name_v4_fqdn(mode, sent, expected):
    p = params(**{"ddns-replace-client-name": mode})
    request = opts() if sent is None else opts(fqdn4(D.FLAG4_S, sent))
    d = D.process_v4(p, request, "", "192.0.2.10")
    if expected is None:
        assert d.option is None and d.hostname == "" and not (d.fwd or d.rev)
    elif sent is None:
        # No option from the client: Kea answers with a Host Name option.
        assert d.option.code == 12 and d.hostname == expected.rstrip(".")
        assert d.fwd and d.rev
    else:
        assert d.option.code == 81 and d.hostname == expected
        assert d.option.data[3:] == D.wire_name(expected)


@pytest.mark.parametrize("mode,sent,expected", [
    ("never", "Laptop", "laptop.example.com"),
    ("never", "laptop.corp.example.", "laptop.corp.example."),
    ("never", "a.b", "a.b"),                       # 3 labels: taken as is
    ("never", ".", "myhost-192-0-2-10.example.com"),
    ("never", None, None),
    ("never", "", None),                           # empty: ignored
    ("always", "laptop", "myhost-192-0-2-10.example.com"),
    ("when-present", "laptop", "myhost-192-0-2-10.example.com"),
    ("when-present", None, None),
    ("when-not-present", "laptop", "laptop.example.com"),
    ("when-not-present", None, "myhost-192-0-2-10.example.com"),
])
def test_replace_client_name_v4_hostname(mode, sent, expected):
    p = params(**{"ddns-replace-client-name": mode})
    request = opts() if sent is None else opts(Option(12, sent.encode()))
    d = D.process_v4(p, request, "", "192.0.2.10")
    if expected is None:
        assert d.option is None and not (d.fwd or d.rev)
    else:
        assert d.option == Option(12, expected.encode())
        assert (d.hostname, d.fwd, d.rev) == (expected, True, True)


@pytest.mark.parametrize("mode,sent,enabled,expected", [
    ("never", "client", True, "client.example.com."),
    ("never", "", True, "myhost-2001-db8--7.example.com."),
    ("never", None, True, None),
    ("always", "client", True, "myhost-2001-db8--7.example.com."),
    ("always", None, True, "myhost-2001-db8--7.example.com."),
    ("always", None, False, None),                # no fabricated option without updates
    ("when-present", "client", True, "myhost-2001-db8--7.example.com."),
    ("when-present", None, True, None),
    ("when-not-present", "client", True, "client.example.com."),
    ("when-not-present", None, True, "myhost-2001-db8--7.example.com."),
])
def test_replace_client_name_v6(mode, sent, enabled, expected):
    p = params(enabled, **{"ddns-replace-client-name": mode})
    request = opts() if sent is None else opts(fqdn6(D.FLAG6_S, sent))
    d = D.process_v6(p, request, "", "2001:db8::7")
    if expected is None:
        assert d.option is None and not (d.fwd or d.rev)
    else:
        assert d.hostname == expected and d.option.code == 39
        assert d.option.data == bytes((D.FLAG6_S,)) + D.wire_name(expected)
        assert d.fwd and d.rev


@pytest.mark.parametrize("suffix,sent,expected", [
    ("example.com", "host", "host.example.com."),
    ("example.com.", "host", "host.example.com."),
    ("", "host", "host."),
    ("example.com", "host.other.org.", "host.other.org."),   # full names are kept
    ("example.com", "HOST.Sub", "host.sub.example.com."),    # partial, lower-cased
])
def test_qualifying_suffix(suffix, sent, expected):
    p = D.DdnsParams.from_mapping({"ddns-qualifying-suffix": suffix}, True)
    d = D.process_v4(p, opts(fqdn4(D.FLAG4_S, sent)), "", "192.0.2.1")
    assert d.hostname == expected
    d6 = D.process_v6(p, opts(fqdn6(D.FLAG6_S, sent)), "", "2001:db8::1")
    assert d6.hostname == expected


def test_sanitizing():
    p = params(**{"hostname-char-replacement": "x"})
    # The ARM's example: the whole Host Name option value is scrubbed.
    d = D.process_v4(p, opts(Option(12, b"myhost-$[123.org")), "", "192.0.2.1")
    assert d.hostname == "myhost-xx123.org"
    # Option 81: label by label, dots are delimiters, before qualifying.
    d = D.process_v4(p, opts(fqdn4(D.FLAG4_S, "my_host")), "", "192.0.2.1")
    assert d.hostname == "myxhost.example.com."
    # Empty replacement omits; NULs always go.
    d = D.process_v4(ON, opts(Option(12, b"we ird\x00x.a.b")), "", "192.0.2.1")
    assert d.hostname == "weirdx.a.b"
    # A custom set.
    p = params(**{"hostname-char-set": "[^a-z]", "hostname-char-replacement": "-"})
    d = D.process_v4(p, opts(fqdn4(D.FLAG4_S, "h0st")), "", "192.0.2.1")
    assert d.hostname == "h-st.example.com."
    # Sanitizing off.
    p = params(**{"hostname-char-set": ""})
    d = D.process_v4(p, opts(Option(12, b"my_host")), "", "192.0.2.1")
    assert d.hostname == "my_host.example.com"


def test_sanitized_to_an_empty_label_sends_no_option():
    p = params()
    d = D.process_v4(p, opts(fqdn4(D.FLAG4_S, "ok.$$$.x.")), "", "192.0.2.1")
    assert d.option is None and not d.drop and "empty label" in d.reason


def test_generated_names():
    assert D.generate_fqdn("192.0.2.10", ON) == "myhost-192-0-2-10.example.com."
    assert D.generate_fqdn("192.0.2.10", ON, False) == "myhost-192-0-2-10.example.com"
    assert D.generate_fqdn("2001:db8:0:0::10", ON) == "myhost-2001-db8--10.example.com."
    p = D.DdnsParams.from_mapping({"ddns-generated-prefix": "another.host"}, True)
    assert D.generate_fqdn("172.16.1.10", p) == "another.host-172-16-1-10."
    d = D.decide_v4(ON, opts(fqdn4(D.FLAG4_S, "")))
    assert d.generate and d.option.data == b"\x05\x00\x00"   # before the address is known
    d.finish("192.0.2.10", ON)
    assert d.option.data[3:] == D.wire_name("myhost-192-0-2-10.example.com.")


def test_reservation_hostname_wins():
    d = D.process_v4(ON, opts(fqdn4(D.FLAG4_S, "client")), "Reserved", "192.0.2.5")
    assert d.hostname == "reserved.example.com." and d.fwd and d.rev
    d = D.process_v4(ON, opts(Option(12, b"client")), "Reserved", "192.0.2.5")
    assert d.option == Option(12, b"reserved.example.com")
    d = D.process_v4(ON, opts(), "reserved.other.org.", "192.0.2.5")
    assert d.option == Option(12, b"reserved.other.org.example.com")
    p = params(**{"ddns-replace-client-name": "always"})
    d = D.process_v6(p, opts(fqdn6(D.FLAG6_S, "client")), "res", "2001:db8::5")
    assert d.hostname == "res.example.com."
    # v6 without option 39: the lease keeps the reserved name, no updates.
    d = D.process_v6(ON, opts(), "res6", "2001:db8::5")
    assert (d.option, d.hostname, d.fwd, d.rev) == (None, "res6", False, False)


def test_params_from_config_inheritance():
    cfg = build({
        "ddns-generated-prefix": "g", "ddns-qualifying-suffix": "top.example.",
        "subnet4": [{"subnet": "192.0.2.0/24", "id": 1, "ddns-qualifying-suffix": "sub.example."}],
        "shared-networks": [{"name": "n", "ddns-send-updates": False,
                             "ddns-replace-client-name": "always",
                             "subnet4": [{"subnet": "198.51.100.0/24", "id": 2}]}],
    }, 4)
    assert D.D2ClientConfig.from_config(cfg).enable_updates is False
    client = D.D2ClientConfig(enable_updates=True)
    p1 = D.DdnsParams.from_subnet(cfg.subnet_by_id[1], cfg, client)
    p2 = D.DdnsParams.from_subnet(cfg.subnet_by_id[2], cfg, client)
    assert (p1.enable_updates, p1.qualifying_suffix, p1.generated_prefix) == \
        (True, "sub.example.", "g")
    assert (p2.enable_updates, p2.qualifying_suffix, p2.replace_client_name) == \
        (False, "top.example.", "always")
    view = D.DdnsConfig(cfg, client)
    view.validate()
    assert view.params(2) is view.params(2) and view.params(99).qualifying_suffix == "top.example."


def test_client_config_checks():
    cfg = D.D2ClientConfig.from_map({"enable-updates": True, "server-port": 5301})
    assert (cfg.server_ip, cfg.server_port, cfg.max_queue_size) == ("127.0.0.1", 5301, 1024)
    with pytest.raises(UserError, match="TCP is not yet supported"):
        D.D2ClientConfig.from_map({"ncr-protocol": "TCP"})
    with pytest.raises(UserError, match="same family"):
        D.D2ClientConfig.from_map({"server-ip": "::1", "sender-ip": "127.0.0.1"})
    with pytest.raises(UserError, match="cannot be the same"):
        D.D2ClientConfig.from_map({"sender-ip": "127.0.0.1", "sender-port": 53001})
    with pytest.raises(UserError, match="hostname-char-set"):
        D.DdnsParams.from_mapping({"hostname-char-set": "[a-"}, True)


# ---------------------------------------------------------------- DHCID, TTL, NCR

def b64(data):
    return base64.b64encode(data).decode()


def test_dhcid_rfc4701_examples():
    # RFC 4701 section 3.6, the three examples.
    duid = bytes.fromhex("000100064" "12df166010203040506".replace(" ", ""))
    assert b64(D.dhcid_v6("chi6.example.com", duid)) == \
        "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="
    assert b64(D.dhcid_v4("client.example.com", hwaddr=bytes.fromhex("010203040506"))) == \
        "AAABxLmlskllE0MVjd57zHcWmEH3pCQ6VytcKD//7es/deY="
    assert b64(D.dhcid_v4("chi.example.com", client_id=bytes.fromhex("01070809" "0a0b0c"))) == \
        "AAEBOSD+XR3Os/0LozeXVqcNc7FwCfQdWL3b/NaiUDlW2No="
    # Case and the trailing dot do not change the digest (lower-cased wire form).
    assert D.dhcid_v6("CHI6.Example.COM.", duid) == D.dhcid_v6("chi6.example.com", duid)


def test_dhcid_rfc4361_client_id_shares_the_v6_dhcid():
    duid = bytes.fromhex("0001000641" "2df166010203040506")
    client_id = b"\xff" + bytes.fromhex("00000001") + duid
    assert D.dhcid_v4("chi6.example.com", client_id=client_id) == \
        D.dhcid_v6("chi6.example.com", duid)
    with pytest.raises(ValueError):
        D.dhcid_v4("x.example.com", client_id=b"\xff\x00\x00\x00\x01")


def test_ttl():
    assert [D.ddns_ttl(v) for v in (0, 100, 1799, 1800, 4000, 86400)] == \
        [600, 600, 600, 600, 1333, 28800]


# Produced by kea-dhcp4 2.2 on this machine (a DORA from 02:00:00:00:00:01 with
# option 81 flags E, name "host1", ddns-qualifying-suffix example.com, lifetime 4000).
KEA_NCR = (b'\x01\x1d{"change-type":0,"forward-change":false,"reverse-change":true,'
           b'"fqdn":"host1.example.com.","ip-address":"127.0.0.100","dhcid":'
           b'"000001745DE8F136DBCC9131D352CAFEF4C85FC1E5D8DD05D3CC559B675CF37B210D2A",'
           b'"lease-expires-on":"20261127222538","lease-length":1333,'
           b'"use-conflict-resolution":true}')


def test_ncr_wire_format_matches_kea():
    d = D.process_v4(ON, opts(fqdn4(0, "host1")), "", "127.0.0.100")
    cltt = D.NameChangeRequest.from_wire(KEA_NCR).lease_expires_on - 1333
    lease = Lease4("127.0.0.100", hwaddr=bytes.fromhex("020000000001"), valid_lft=4000,
                   cltt=cltt, subnet_id=1, fqdn_fwd=d.fwd, fqdn_rev=d.rev, hostname=d.hostname)
    ncr = D.ncr_for_lease(D.CHG_ADD, lease)
    assert ncr.to_wire() == KEA_NCR
    assert D.NameChangeRequest.from_wire(KEA_NCR) == ncr
    with pytest.raises(ValueError):
        D.NameChangeRequest.from_wire(KEA_NCR[:-1])


def test_ncr_for_lease_skips():
    base = dict(hwaddr=b"\x02" * 6, valid_lft=4000, cltt=1, fqdn_fwd=True, fqdn_rev=True)
    assert D.ncr_for_lease(0, Lease4("192.0.2.1", **base)) is None                  # no name
    assert D.ncr_for_lease(0, Lease4("192.0.2.1", **{**base, "fqdn_fwd": False, "fqdn_rev": False},
                                     hostname="h.example.")) is None
    assert D.ncr_for_lease(0, Lease4("192.0.2.1", **{**base, "hwaddr": None},
                                     hostname="h.example.")) is None                # no id
    pd = Lease6("2001:db8:1::", duid=b"\x00\x01", type=TYPE_PD, prefix_len=56, hostname="h.",
                fqdn_fwd=True, fqdn_rev=True)
    assert D.ncr_for_lease(0, pd) is None


# ---------------------------------------------------------------- the sender

class FakeSocket:
    def __init__(self, block_after=None, error=None):
        self.sent = []
        self.block_after = block_after
        self.error = error

    def sendto(self, data, dest):
        if self.error is not None:
            raise self.error
        if self.block_after is not None and len(self.sent) >= self.block_after:
            raise BlockingIOError
        self.sent.append((data, dest))
        return len(data)

    def fileno(self):
        return -1

    def close(self):
        pass


def sender(max_queue=1024, sock=None, **kea):
    client = D.D2ClientConfig(enable_updates=True, server_port=53001, max_queue_size=max_queue)
    p = params(**kea)
    return D.NcrSender(client, lambda sid: p, sock=sock or FakeSocket())


def lease4(name="a.example.com.", **kw):
    return Lease4(kw.pop("address", "192.0.2.10"), hwaddr=b"\x02\x00\x00\x00\x00\x01",
                  valid_lft=4000, cltt=1_700_000_000, subnet_id=1, fqdn_fwd=True, fqdn_rev=True,
                  hostname=name, **kw)


def sent_json(s):
    return [json.loads(data[2:]) for data, _ in s._sock.sent]


def test_sender_grant_renew_release():
    s = sender()
    assert [n.change_type for n in s.add(lease4())] == [D.CHG_ADD]
    assert s.add(lease4(), lease4()) == []                       # same name: nothing
    assert s.add(lease4("A.Example.com."), lease4()) == []       # v4 compares case-blind
    changed = s.add(lease4("b.example.com."), lease4())
    assert [(n.change_type, n.fqdn) for n in changed] == \
        [(D.CHG_REMOVE, "a.example.com."), (D.CHG_ADD, "b.example.com.")]
    assert s.add(lease4(), lease4(), reused=True) == []
    assert [n.change_type for n in s.remove(lease4())] == [D.CHG_REMOVE]
    assert [j["change-type"] for j in sent_json(s)] == [0, 1, 0, 1]
    assert s._sock.sent[0][1] == ("127.0.0.1", 53001)
    assert s.stats.sent == 4 and not s.wants_write


def test_sender_update_on_renew_and_send_updates():
    s = sender(**{"ddns-update-on-renew": True})
    assert len(s.add(lease4(), lease4())) == 2
    s = sender(**{"ddns-send-updates": False, "ddns-use-conflict-resolution": False})
    assert s.add(lease4()) == []
    # Removes are still sent (only dhcp-ddns enable-updates gates them).
    (ncr,) = s.remove(lease4())
    assert ncr.use_conflict_resolution is False
    off = D.NcrSender(D.D2ClientConfig(), None, sock=FakeSocket())
    assert off.add(lease4()) == [] and off.remove(lease4()) == []


def test_sender_v6():
    s = sender()
    lease = Lease6("2001:db8::7", duid=b"\x00\x03\x00\x01" + b"\x02" * 6, iaid=1, valid_lft=900,
                   cltt=1_700_000_000, subnet_id=1, fqdn_fwd=True, fqdn_rev=True,
                   hostname="h6.example.com.")
    (ncr,) = s.add(lease)
    assert ncr.lease_expires_on == 0 and ncr.lease_length == 600
    assert sent_json(s)[0]["lease-expires-on"] == "19700101000000"
    (rm,) = s.remove(lease)
    assert rm.lease_expires_on == 1_700_000_600
    # N=1 in the answer (rev false): nothing, not even the old name's removal.
    assert s.add(lease.copy(fqdn_fwd=False, fqdn_rev=False, hostname="new."), lease) == []


def test_sender_never_blocks():
    sock = FakeSocket(block_after=1)
    s = sender(sock=sock)
    s.add(lease4("a.example.com."))
    s.add(lease4("b.example.com.", address="192.0.2.11"))
    assert len(sock.sent) == 1 and s.wants_write
    sock.block_after = None
    assert s.on_writable() == 1 and not s.wants_write
    s = sender(sock=FakeSocket(error=ConnectionRefusedError(111, "refused")))
    s.add(lease4())
    assert s.stats.send_errors == 1 and not s.wants_write


def test_sender_queue_bound_suspends_and_resumes():
    sock = FakeSocket(block_after=0)
    s = sender(max_queue=4, sock=sock)
    for i in range(6):
        s.add(lease4(f"h{i}.example.com.", address=f"192.0.2.{20 + i}"))
    assert len(s.queue) == 4 and s.stats.dropped_queue_full == 2 and s.suspended
    sock.block_after = 2                       # the queue drains to half...
    s.on_writable()
    assert len(s.queue) == 2
    assert s.add(lease4("late.example.com.", address="192.0.2.40"))   # ...and updates resume
    assert not s.suspended


def test_sender_real_socket_on_loopback():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2)
    try:
        client = D.D2ClientConfig(enable_updates=True, server_port=rx.getsockname()[1],
                                  sender_ip="127.0.0.1")
        s = D.NcrSender(client)
        try:
            (ncr,) = s.add(lease4())
            data, peer = rx.recvfrom(65535)
            assert D.NameChangeRequest.from_wire(data) == ncr
            assert peer == s._sock.getsockname() and s.fileno() >= 0
        finally:
            s.close()
    finally:
        rx.close()


# ---------------------------------------------------------------- kea-dhcp4 as the oracle

# Each config: Kea's global ddns-* values, a subnet-level override, reservations,
# and the clients: (request options, client-id or None).
ORACLE = {
    "defaults": ({"ddns-qualifying-suffix": "example.com"}, {}, [], [
        [fqdn4(0, "host1")], [fqdn4(D.FLAG4_S, "Host2.Other.org.")], [fqdn4(D.FLAG4_N, "host3")],
        [fqdn4(D.FLAG4_S, "")], [fqdn4(D.FLAG4_S, "host5", ascii_form=True)],
        [Option(12, b"host6")], [Option(12, b"Host7.foo.bar")], [Option(12, b"my_host$8")],
        [], [fqdn4(D.FLAG4_S, "host9.", rcodes=(255, 255))], [Option(12, b".")],
        ([fqdn4(D.FLAG4_S, "cid")], b"\x01\x02\x00\x00\x00\x00\x0c"),
        ([fqdn4(D.FLAG4_S, "dual")], b"\xff\x00\x00\x00\x01\x00\x03\x00\x01\x02\x00\x00\x00\x00\x0d"),
    ]),
    "overrides": ({"ddns-qualifying-suffix": "example.org.", "ddns-generated-prefix": "gen",
                   "ddns-override-client-update": True, "ddns-override-no-update": True,
                   "hostname-char-replacement": "x", "ddns-use-conflict-resolution": False},
                  {"ddns-replace-client-name": "when-not-present"}, [], [
        [fqdn4(0, "a_b")], [fqdn4(D.FLAG4_N, "c")], [Option(12, b"d$e")], [],
        [fqdn4(D.FLAG4_S, "")], [Option(12, b"x.y.z")],
    ]),
    "replace-and-reservations": ({"ddns-qualifying-suffix": "example.net",
                                  "ddns-replace-client-name": "always"}, {},
                                 [{"hw-address": "02:00:00:00:00:01", "hostname": "Resv1"},
                                  {"hw-address": "02:00:00:00:00:02", "hostname": "resv2.x.org."}], [
        [fqdn4(D.FLAG4_S, "mine")], [Option(12, b"mine")], [fqdn4(D.FLAG4_S, "mine")],
        [Option(12, b"mine")], [],
    ]),
    "send-updates-off": ({"ddns-qualifying-suffix": "example.com"},
                         {"ddns-send-updates": False}, [], [
        [fqdn4(D.FLAG4_S, "off1")], [fqdn4(0, "off2")], [Option(12, b"off3")],
    ]),
}


def _client(spec):
    return spec if isinstance(spec, tuple) else (spec, None)


@pytest.mark.parametrize("name", list(ORACLE))
def test_kea_dhcp4_oracle(name):
    """Our decisions and NCRs equal what kea-dhcp4 2.2 answers and sends."""
    require_program("kea-dhcp4")
    from tests.server.ddns_kea import kea_dhcp4
    glob, sub, resv, clients = ORACLE[name]
    p = D.DdnsParams.from_mapping({**build({**glob, **sub}, 4).params.ddns}, True)
    reserved = {bytes.fromhex(r["hw-address"].replace(":", "")): r["hostname"] for r in resv}
    s = D.NcrSender(D.D2ClientConfig(enable_updates=True), lambda sid: p, sock=FakeSocket())
    with kea_dhcp4(glob, sub, resv) as kea:
        for i, spec in enumerate(clients):
            options, client_id = _client(spec)
            mac = bytes((2, 0, 0, 0, 0, i + 1))
            offer, ack = kea.exchange(mac, options, client_id)
            d = D.process_v4(p, OptionList(options), reserved.get(mac, ""), ack.yiaddr)
            for reply in (offer, ack):
                theirs = [o for o in reply.options if o.code in (12, 81)]
                assert theirs == ([d.option] if d.option else []), (i, options)
            lease = Lease4(ack.yiaddr, hwaddr=mac, client_id=client_id, valid_lft=4000,
                           cltt=0, subnet_id=1, fqdn_fwd=d.fwd, fqdn_rev=d.rev,
                           hostname=d.hostname)
            ours = [json.loads(n.to_json()) for n in s.add(lease)]
            theirs = [json.loads(x[2:]) for x in kea.ncrs(len(ours))]
            for ncr in ours + theirs:
                ncr.pop("lease-expires-on")
            assert theirs == ours, (i, options)


def test_kea_dhcp4_oracle_renewals():
    """A renewal with the same name sends nothing; a changed name removes, then adds."""
    require_program("kea-dhcp4")
    from tests.server.ddns_kea import kea_dhcp4
    p = params()
    s = D.NcrSender(D.D2ClientConfig(enable_updates=True), lambda sid: p, sock=FakeSocket())
    mac = bytes.fromhex("020000000042")
    with kea_dhcp4({"ddns-qualifying-suffix": "example.com"}) as kea:
        prev = None
        for name in ("first", "first", "second"):
            options = [fqdn4(D.FLAG4_S, name)]
            _, ack = kea.exchange(mac, options)
            d = D.process_v4(p, OptionList(options), "", ack.yiaddr)
            lease = Lease4(ack.yiaddr, hwaddr=mac, valid_lft=4000, cltt=0, subnet_id=1,
                           fqdn_fwd=d.fwd, fqdn_rev=d.rev, hostname=d.hostname)
            ours = [(n.change_type, n.fqdn) for n in s.add(lease, prev)]
            theirs = [(j["change-type"], j["fqdn"])
                      for j in (json.loads(x[2:]) for x in kea.ncrs(len(ours)))]
            assert theirs == ours
            prev = lease
        assert ours == [(1, "first.example.com."), (0, "second.example.com.")]
        kea.release(mac, prev.address, ack.options.data(54))
        (theirs,) = kea.ncrs(1)
        (ours,) = s.remove(prev)
        assert json.loads(theirs[2:])["change-type"] == 1
        assert D.NameChangeRequest.from_wire(theirs).fqdn == ours.fqdn == "second.example.com."
        assert D.NameChangeRequest.from_wire(theirs).dhcid == ours.dhcid


# ---------------------------------------------------------------- kea-dhcp-ddns receives ours

def test_kea_dhcp_ddns_accepts_our_ncrs():
    """D2 parses our NCRs and turns them into RFC 2136 updates carrying our DHCID."""
    require_program("kea-dhcp-ddns")
    from tests.server.ddns_kea import kea_d2, parse_update
    with kea_d2() as d2:
        client = D.D2ClientConfig(enable_updates=True, server_port=d2.port)
        s = D.NcrSender(client)
        try:
            lease = Lease4("192.0.2.10", hwaddr=bytes.fromhex("020000000001"), valid_lft=3600,
                           cltt=1_700_000_000, subnet_id=1, fqdn_fwd=True, fqdn_rev=True,
                           hostname="host.example.com.")
            (add,) = s.add(lease)
            updates = [parse_update(m) for m in d2.serve_dns(2)]
            assert d2.wait_log("DHCP_DDNS_ADD_SUCCEEDED")
            (rm,) = s.remove(lease)
            # Forward remove is two steps (A/AAAA, then the rest), then the reverse.
            updates += [parse_update(m) for m in d2.serve_dns(3)]
            assert d2.wait_log("DHCP_DDNS_REMOVE_SUCCEEDED")
            log = d2.read_log()
        finally:
            s.close()
    assert log.count("DHCP_DDNS_QUEUE_MGR_QUEUE_RECEIVE") == 2
    assert "FQDN: [host.example.com.]" in log and f"DHCID: [{add.dhcid.hex().upper()}]" in log
    assert "Lease Length: 1200" in log
    fwd_add, rev_add, fwd_rm, fwd_rm_rest, rev_rm = updates
    assert [u["zone"] for u in updates] == ["example.com.", "2.0.192.in-addr.arpa.",
                                            "example.com.", "example.com.",
                                            "2.0.192.in-addr.arpa."]
    assert all(u["opcode"] == 5 for u in updates)
    # Forward add (RFC 4703 with conflict resolution): "name not in use", then A + DHCID.
    a_rr = [rr for rr in fwd_add["update"] if rr[1] == 1]
    dhcid_rr = [rr for rr in fwd_add["update"] if rr[1] == 49]
    assert a_rr[0][0] == "host.example.com." and a_rr[0][4] == socket.inet_aton("192.0.2.10")
    assert a_rr[0][3] == 1200
    assert dhcid_rr[0][4] == add.dhcid
    # Reverse add: PTR at 10.2.0.192.in-addr.arpa. pointing at our name.
    ptr = [rr for rr in rev_add["update"] if rr[1] == 12 and rr[2] == 1]
    assert ptr[0][0] == "10.2.0.192.in-addr.arpa."
    # Remove: the forward prerequisite is our DHCID.
    assert any(rr[1] == 49 and rr[4] == rm.dhcid for rr in fwd_rm["prereq"])
    assert any(rr[1] == 49 and rr[4] == rm.dhcid for rr in fwd_rm_rest["prereq"])
    assert rev_rm["prereq"][0][4] == b"\x04host\x07example\x03com\x00"


# ---------------------------------------------------------------- kea-dhcp6 as the oracle

V6_ORACLE = {
    "client-names": ({"ddns-qualifying-suffix": "example.com", "hostname-char-replacement": "x",
                      "ddns-override-no-update": True},
                     [fqdn6(D.FLAG6_S, "host1"), fqdn6(0, "Host2.other.org."),
                      fqdn6(D.FLAG6_N, "h3"), fqdn6(D.FLAG6_S, ""), fqdn6(D.FLAG6_S, "a_b"), None]),
    "generated": ({"ddns-qualifying-suffix": "example.org.", "ddns-generated-prefix": "g6",
                   "ddns-replace-client-name": "when-not-present",
                   "ddns-override-client-update": True, "ddns-use-conflict-resolution": False},
                  [None, fqdn6(0, "c1"), fqdn6(D.FLAG6_S, "")]),
}


@pytest.mark.parametrize("name", list(V6_ORACLE))
def test_kea_dhcp6_oracle(name):
    """Option 39 answers and NCRs (lease-expires-on 0 included) equal kea-dhcp6's."""
    glob, clients6 = V6_ORACLE[name]
    require_root()
    require_program("kea-dhcp6", "ip")
    from tests.e2e.netns import NetLab, kea
    p = D.DdnsParams.from_mapping(build(glob, 6).params.ddns, True)
    s = D.NcrSender(D.D2ClientConfig(enable_updates=True), lambda sid: p, sock=FakeSocket())
    duids = [bytes.fromhex("00030001020000000a") + bytes((i,)) for i in range(len(clients6))]
    clients = [{"duid": duid.hex(), "fqdn": None if o is None else o.data.hex()}
               for duid, o in zip(duids, clients6)]
    with NetLab() as lab:
        ns = lab.namespace("ddns6")
        for address in ("2001:db8:1::1/64", "2001:db8:1::2/64"):
            ns.add_address("lo", address)
        kea(ns, 6, {**glob,
                    "interfaces-config": {"interfaces": ["lo/2001:db8:1::1"]},
                    "dhcp-ddns": {"enable-updates": True},
                    "preferred-lifetime": 3000, "valid-lifetime": 4000,
                    "subnet6": [{"id": 1, "subnet": "2001:db8:1::/64",
                                 "pools": [{"pool": "2001:db8:1::100 - 2001:db8:1::1ff"}]}]},
            lab.tmp)
        out = ns.run([sys.executable, "-m", "tests.server.ddns_kea6", json.dumps(clients)],
                     cwd=str(ROOT), timeout=60).stdout
    results = json.loads(out)
    assert len(results) == len(clients6)
    for duid, request, got in zip(duids, clients6, results):
        # Kea 2.2 leaves a name to generate empty in ADVERTISE: no finish() there.
        d = D.decide_v6(p, opts(request) if request else opts(), "")
        assert got["advertise39"] == (d.option.data.hex() if d.option else None), request
        d.finish(got["address"], p)
        assert got["reply39"] == (d.option.data.hex() if d.option else None), request
        lease = Lease6(got["address"], duid=duid, iaid=1, valid_lft=4000, cltt=0, subnet_id=1,
                       fqdn_fwd=d.fwd, fqdn_rev=d.rev, hostname=d.hostname)
        ours = [n.to_wire().decode("latin-1") for n in s.add(lease)]
        assert got["ncrs"] == ours, request
