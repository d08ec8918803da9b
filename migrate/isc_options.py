"""ISC DHCP's built-in option table (common/tables.c) and its mapping to Kea.

Each row: ISC space, code, ISC name, ISC format letters, Kea name when it differs.
Format letters are ISC's: I IPv4, 6 IPv6, l/L s/S b/B signed/unsigned 32/16/8,
T lease time, f flag, t text, x/X text-or-hex, d domain-name, D domain-list,
Dc compressed domain-list, Z zero length, E encapsulation, a array of the
preceding atom, o optional. Kea's type of each option comes from the shared
option table (kea_tools/codec/data/std-options.json).
"""
import json
from functools import lru_cache
from pathlib import Path

# ISC space -> (Kea space, universe). ISC writes "dhcp.x" for v4 even under -6.
SPACES = {
    "dhcp": ("dhcp4", 4),
    "dhcp6": ("dhcp6", 6),
    "agent": ("dhcp-agent-options-space", 4),
    "vendor": ("vivso", 4),
    "vsio": ("vsio", 6),
}

_TABLE = """
dhcp 1 subnet-mask I
dhcp 2 time-offset l
dhcp 3 routers Ia
dhcp 4 time-servers Ia
dhcp 5 ien116-name-servers Ia name-servers
dhcp 6 domain-name-servers Ia
dhcp 7 log-servers Ia
dhcp 8 cookie-servers Ia
dhcp 9 lpr-servers Ia
dhcp 10 impress-servers Ia
dhcp 11 resource-location-servers Ia
dhcp 12 host-name t
dhcp 13 boot-size S
dhcp 14 merit-dump t
dhcp 15 domain-name t
dhcp 16 swap-server I
dhcp 17 root-path t
dhcp 18 extensions-path t
dhcp 19 ip-forwarding f
dhcp 20 non-local-source-routing f
dhcp 21 policy-filter IIa
dhcp 22 max-dgram-reassembly S
dhcp 23 default-ip-ttl B
dhcp 24 path-mtu-aging-timeout L
dhcp 25 path-mtu-plateau-table Sa
dhcp 26 interface-mtu S
dhcp 27 all-subnets-local f
dhcp 28 broadcast-address I
dhcp 29 perform-mask-discovery f
dhcp 30 mask-supplier f
dhcp 31 router-discovery f
dhcp 32 router-solicitation-address I
dhcp 33 static-routes IIa
dhcp 34 trailer-encapsulation f
dhcp 35 arp-cache-timeout L
dhcp 36 ieee802-3-encapsulation f
dhcp 37 default-tcp-ttl B
dhcp 38 tcp-keepalive-interval L
dhcp 39 tcp-keepalive-garbage f
dhcp 40 nis-domain t
dhcp 41 nis-servers Ia
dhcp 42 ntp-servers Ia
dhcp 43 vendor-encapsulated-options X
dhcp 44 netbios-name-servers Ia
dhcp 45 netbios-dd-server Ia
dhcp 46 netbios-node-type B
dhcp 47 netbios-scope t
dhcp 48 font-servers Ia
dhcp 49 x-display-manager Ia
dhcp 50 dhcp-requested-address I
dhcp 51 dhcp-lease-time L
dhcp 52 dhcp-option-overload B
dhcp 53 dhcp-message-type B
dhcp 54 dhcp-server-identifier I
dhcp 55 dhcp-parameter-request-list Ba
dhcp 56 dhcp-message t
dhcp 57 dhcp-max-message-size S
dhcp 58 dhcp-renewal-time L
dhcp 59 dhcp-rebinding-time L
dhcp 60 vendor-class-identifier x
dhcp 61 dhcp-client-identifier X
dhcp 62 nwip-domain t nwip-domain-name
dhcp 63 nwip-suboptions X
dhcp 64 nisplus-domain t nisplus-domain-name
dhcp 65 nisplus-servers Ia
dhcp 66 tftp-server-name t
dhcp 67 bootfile-name t boot-file-name
dhcp 68 mobile-ip-home-agent Ia
dhcp 69 smtp-server Ia
dhcp 70 pop-server Ia
dhcp 71 nntp-server Ia
dhcp 72 www-server Ia
dhcp 73 finger-server Ia
dhcp 74 irc-server Ia
dhcp 75 streettalk-server Ia
dhcp 76 streettalk-directory-assistance-server Ia
dhcp 77 user-class X
dhcp 78 slp-directory-agent fIa
dhcp 79 slp-service-scope fto
dhcp 80 rapid-commit Z
dhcp 81 fqdn X
dhcp 82 relay-agent-information X dhcp-agent-options
dhcp 85 nds-servers Ia
dhcp 86 nds-tree-name t
dhcp 87 nds-context t
dhcp 88 bcms-controller-names D
dhcp 89 bcms-controller-address Ia
dhcp 90 authenticate X
dhcp 91 client-last-transaction-time L
dhcp 92 associated-ip Ia
dhcp 93 pxe-system-type Sa client-system
dhcp 94 pxe-interface-id BBB client-ndi
dhcp 97 pxe-client-id BX uuid-guid
dhcp 98 uap-servers t
dhcp 99 geoconf-civic X
dhcp 100 pcode t
dhcp 101 tcode t
dhcp 108 v6-only-preferred L
dhcp 112 netinfo-server-address Ia
dhcp 113 netinfo-server-tag t
dhcp 114 default-url t
dhcp 116 auto-config B
dhcp 117 name-service-search Sa
dhcp 118 subnet-selection I
dhcp 119 domain-search Dc
dhcp 124 vivco X vivco-suboptions
dhcp 125 vivso X vivso-suboptions
dhcp 136 pana-agent Ia
dhcp 137 v4-lost d
dhcp 138 capwap-ac-v4 Ia
dhcp 141 sip-ua-cs-domains Dc
dhcp 146 rdnss-selection BIID
dhcp 159 v4-portparams BBS
dhcp 160 v4-captive-portal t
dhcp 212 option-6rd BB6Ia
dhcp 213 v4-access-domain d
dhcp6 1 client-id X clientid
dhcp6 2 server-id X serverid
dhcp6 3 ia-na X
dhcp6 4 ia-ta X
dhcp6 5 ia-addr X iaaddr
dhcp6 6 oro Sa
dhcp6 7 preference B
dhcp6 8 elapsed-time S
dhcp6 9 relay-msg X
dhcp6 11 auth X
dhcp6 12 unicast 6
dhcp6 13 status-code X
dhcp6 14 rapid-commit Z
dhcp6 15 user-class X
dhcp6 16 vendor-class X
dhcp6 17 vendor-opts X
dhcp6 18 interface-id X
dhcp6 19 reconf-msg B
dhcp6 20 reconf-accept Z
dhcp6 21 sip-servers-names D sip-server-dns
dhcp6 22 sip-servers-addresses 6a sip-server-addr
dhcp6 23 name-servers 6a dns-servers
dhcp6 24 domain-search D
dhcp6 25 ia-pd X
dhcp6 26 ia-prefix X iaprefix
dhcp6 27 nis-servers 6a
dhcp6 28 nisp-servers 6a
dhcp6 29 nis-domain-name D
dhcp6 30 nisp-domain-name D
dhcp6 31 sntp-servers 6a
dhcp6 32 info-refresh-time T information-refresh-time
dhcp6 33 bcms-server-d D bcms-server-dns
dhcp6 34 bcms-server-a 6a bcms-server-addr
dhcp6 36 geoconf-civic X
dhcp6 37 remote-id X
dhcp6 38 subscriber-id X
dhcp6 39 fqdn X client-fqdn
dhcp6 40 pana-agent 6a
dhcp6 41 new-posix-timezone t
dhcp6 42 new-tzdb-timezone t
dhcp6 43 ero Sa
dhcp6 44 lq-query X
dhcp6 45 client-data X
dhcp6 46 clt-time L
dhcp6 47 lq-relay-data 6X
dhcp6 48 lq-client-link 6a
dhcp6 51 v6-lost d
dhcp6 52 capwap-ac-v6 6a
dhcp6 53 relay-id X
dhcp6 57 v6-access-domain d
dhcp6 58 sip-ua-cs-list D
dhcp6 59 bootfile-url t
dhcp6 60 bootfile-param X
dhcp6 61 client-arch-type Sa
dhcp6 62 nii BBB
dhcp6 64 aftr-name d
dhcp6 65 erp-local-domain-name d
dhcp6 74 rdnss-selection 6BD
dhcp6 79 client-linklayer-addr X
dhcp6 80 link-address 6
dhcp6 82 solmax-rt L
dhcp6 83 inf-max-rt L
dhcp6 87 dhcpv4-msg X dhcpv4-message
dhcp6 88 dhcp4-o-dhcp6-server 6a dhcp4o6-server-addr
dhcp6 103 v6-captive-portal t
dhcp6 135 relay-source-port S
dhcp6 143 ipv6-address-andsf 6a
agent 1 circuit-id X
agent 2 remote-id X
agent 3 agent-id I
agent 4 DOCSIS-device-class L
agent 5 link-selection I
agent 19 relay-port Z
"""


def _row(line):
    parts = line.split()
    space, code, name, fmt = parts[:4]
    return space, int(code), name, fmt, parts[4] if len(parts) > 4 else name


@lru_cache(maxsize=1)
def builtin_table():
    """{(isc_space, isc_name): (code, format, kea_name)} for ISC's built-in options."""
    table = {}
    for line in _TABLE.strip().splitlines():
        space, code, name, fmt, kea = _row(line)
        table[(space, name)] = (code, fmt, kea)
    return table


@lru_cache(maxsize=1)
def kea_std_options():
    """{(kea_space, code): definition dict} from the shared Kea option table."""
    path = Path(__file__).resolve().parent.parent / "kea_tools" / "codec" / "data" / "std-options.json"
    try:
        import importlib.resources as res
        text = res.files("kea_tools.codec").joinpath("data/std-options.json").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        text = path.read_text()
    data = json.loads(text)
    out = {}
    for opt in data["options"]:
        if opt.get("in_kea_2_2", True):
            out[(opt["space"], opt["code"])] = opt
    return out


def kea_knows(kea_space, code):
    """Whether Kea 2.2 has a built-in definition for (space, code)."""
    return (kea_space, code) in kea_std_options()
