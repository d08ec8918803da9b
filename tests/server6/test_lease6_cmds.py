"""lease6-* and stat-lease6-get answer as kea-dhcp6 2.2 does (texts captured from
the real server: kea22-lease6-responses.txt beside this file)."""
from kea_tools.server.hooks import HooksManager
from kea_tools.server.control import execute
from tests.server6.helpers import SERVER_DUID, config, ia_na, message, one, server

D = "1a:1b:1c:1d:1e:1f:20:21"


class FakeDaemon:
    """What the commands read from a daemon."""

    family = 6
    sender = None  # no DDNS

    def __init__(self, section=None):
        section = section or config()
        section["subnet6"].append({"id": 2, "subnet": "2001:db8:2::/64",
                                   "pools": [{"pool": "2001:db8:2::10-2001:db8:2::1f"}]})
        self.pipeline = server(section)
        self.leases, self.model, self.stats = (self.pipeline.leases, self.pipeline.model,
                                               self.pipeline.stats)
        self.hooks = HooksManager(builtins={"lease_cmds", "stat_cmds"})

    def refresh_lease_stats(self):
        self.pipeline.init_stats()


def run(daemon, command, arguments=None):
    request = {"command": command}
    if arguments is not None:
        request["arguments"] = arguments
    return execute(daemon, request)


def test_add_get_update_del_as_kea():
    d = FakeDaemon()
    r = run(d, "lease6-add", {"ip-address": "2001:db8:1::3", "duid": D, "iaid": 1234})
    assert r == {"result": 0, "text": "Lease for address 2001:db8:1::3, subnet-id 1 added."}
    assert run(d, "lease6-add", {"ip-address": "2001:db8:1::3", "duid": D, "iaid": 1234}) == \
        {"result": 1, "text": "IPv6 lease already exists."}
    r = run(d, "lease6-add", {"subnet-id": 1, "ip-address": "2001:db8:8:10::", "duid": D,
                              "iaid": 5, "type": "IA_PD", "prefix-len": 60,
                              "hostname": "h.example"})
    assert r["text"] == "Lease for prefix 2001:db8:8:10::/60, subnet-id 1 added."
    r = run(d, "lease6-get", {"ip-address": "2001:db8:1::3"})
    assert r["result"] == 0 and r["text"] == "IPv6 lease found."
    args = r["arguments"]
    assert args["type"] == "IA_NA" and args["iaid"] == 1234 and args["duid"] == D
    assert args["preferred-lft"] == 4000 and args["valid-lft"] == 4000 and "prefix-len" not in args
    assert run(d, "lease6-get", {"ip-address": "2001:db8:8:10::"}) == \
        {"result": 3, "text": "Lease not found."}
    r = run(d, "lease6-get", {"ip-address": "2001:db8:8:10::", "type": "IA_PD"})
    assert r["arguments"]["prefix-len"] == 60
    r = run(d, "lease6-get", {"identifier-type": "duid", "identifier": D, "iaid": 1234,
                              "subnet-id": 1})
    assert r["arguments"]["ip-address"] == "2001:db8:1::3"
    assert run(d, "lease6-update", {"ip-address": "2001:db8:1::3", "duid": D, "iaid": 77,
                                    "hostname": "u"}) == \
        {"result": 0, "text": "IPv6 lease updated."}
    assert run(d, "lease6-update", {"ip-address": "2001:db8:1::9", "duid": D, "iaid": 77,
                                    "force-create": True})["text"] == "IPv6 lease added."
    assert run(d, "lease6-del", {"ip-address": "2001:db8:1::3"}) == \
        {"result": 0, "text": "IPv6 lease deleted."}
    assert run(d, "lease6-del", {"ip-address": "2001:db8:1::3"}) == \
        {"result": 3, "text": "IPv6 lease not found."}
    assert d.stats.value("subnet[1].assigned-pds") == 1


def test_errors_as_kea():
    d = FakeDaemon()
    cases = [
        ({"ip-address": "2001:db8:8:20::", "duid": D, "iaid": 5, "type": "IA_PD",
          "prefix-len": 60},
         "Subnet-id is 0 or not specified. This is allowed for address leases only, not "
         "prefix leases."),
        ({"subnet-id": 9, "ip-address": "2001:db8:1::4", "duid": D, "iaid": 1},
         "Invalid subnet-id: No IPv6 subnet with subnet-id=9 currently configured."),
        ({"subnet-id": 1, "ip-address": "2001:db8:2::4", "duid": D, "iaid": 1},
         "The address 2001:db8:2::4 does not belong to subnet 2001:db8:1::/64, subnet-id=1"),
        ({"ip-address": "2001:db8:9::5", "duid": D, "iaid": 1},
         "subnet-id not specified and failed to find a subnet for address 2001:db8:9::5"),
        ({"subnet-id": 1, "ip-address": "2001:db8:8:30::", "duid": D, "iaid": 5,
          "type": "IA_PD", "prefix-len": 60, "state": 1},
         "Invalid declined state for PD prefix."),
    ]
    for args, text in cases:
        assert run(d, "lease6-add", args) == {"result": 1, "text": text}
    assert run(d, "lease6-add", {"ip-address": "2001:db8:1::5", "iaid": 1})["text"] \
        .startswith("missing parameter 'duid'")
    assert run(d, "lease6-get", {})["text"] == "Mandatory 'subnet-id' parameter missing."
    assert run(d, "lease6-get", {"identifier-type": "hw-address", "identifier": D, "iaid": 1,
                                 "subnet-id": 1})["text"] == \
        "Query by hw-address is not allowed in v6."
    assert run(d, "lease6-get", {"ip-address": "2001:db8:1::3", "type": "IA_XX"})["text"] == \
        ("Invalid lease type specified: IA_XX, only supported values are: IA_NA, IA_TA, "
         "IA_PD and V4")
    assert run(d, "lease6-get-by-duid", {"duid": "zz"})["text"] == \
        "'zz' is not a valid string of hexadecimal digits"
    assert run(d, "lease6-get-by-duid", {})["text"] == "'duid' parameter not specified"
    assert run(d, "lease6-get-page", {"from": "bogus", "limit": 5})["text"] == \
        "'from' parameter value is neither 'start' keyword nor a valid IPv6 address"
    assert run(d, "lease6-get-page", {"from": "start", "limit": 0})["text"] == \
        "page size of retrieved leases must not be 0"
    assert run(d, "lease6-get-page", {"limit": 3})["text"] == "'from' parameter not specified"
    assert run(d, "lease6-get-by-hostname", {"hostname": ""})["text"] == \
        "'hostname' parameter is empty"
    assert run(d, "lease6-bulk-apply", {})["text"] == \
        "neither 'deleted-leases' nor 'leases' parameter specified"


def test_lists_pages_wipe_bulk_and_stats():
    d = FakeDaemon()
    for i, addr in enumerate(("2001:db8:1::3", "2001:db8:1::4", "2001:db8:2::3")):
        run(d, "lease6-add", {"ip-address": addr, "duid": D, "iaid": i,
                              "hostname": "H.example" if i == 0 else ""})
    r = run(d, "lease6-get-all")
    assert r["text"] == "3 IPv6 lease(s) found." and len(r["arguments"]["leases"]) == 3
    assert run(d, "lease6-get-all", {"subnets": [7]}) == \
        {"result": 3, "text": "0 IPv6 lease(s) found.", "arguments": {"leases": []}}
    r = run(d, "lease6-get-page", {"from": "start", "limit": 2})
    assert r["arguments"]["count"] == 2 and r["text"] == "2 IPv6 lease(s) found."
    last = r["arguments"]["leases"][-1]["ip-address"]
    r = run(d, "lease6-get-page", {"from": last, "limit": 2})
    assert [x["ip-address"] for x in r["arguments"]["leases"]] == ["2001:db8:2::3"]
    assert run(d, "lease6-get-by-duid", {"duid": D})["text"] == "3 IPv6 lease(s) found."
    assert run(d, "lease6-get-by-hostname", {"hostname": "h.EXAMPLE"})["text"] == \
        "1 IPv6 lease(s) found."
    r = run(d, "stat-lease6-get", {"subnet-id": 2})
    assert r["text"] == "stat-lease6-get[subnet-id=2]: 1 rows found"
    assert r["arguments"]["result-set"]["rows"] == [[2, 16, 0, 1, 0, 0, 0, 0]]
    assert run(d, "stat-lease6-get", {"subnet-id": 7}) == {
        "result": 3, "arguments": {},
        "text": "stat-lease6-get[subnet-id=7]: no matching data, subnet-id: 7 does not exist"}
    r = run(d, "lease6-bulk-apply", {
        "deleted-leases": [{"ip-address": "2001:db8:1::77"}, {"ip-address": "2001:db8:1::4"}],
        "leases": [{"subnet-id": 1, "ip-address": "2001:db8:1::12", "duid": D, "iaid": 3}]})
    assert r["text"] == "Bulk apply of 2 IPv6 leases completed."
    assert r["arguments"] == {"failed-deleted-leases": [{
        "error-message": "lease not found", "ip-address": "2001:db8:1::77", "result": 3,
        "type": "IA_NA"}]}
    assert run(d, "lease6-wipe") == {"result": 0,
                                     "text": "Deleted 3 IPv6 lease(s) from subnet(s) 1 2"}
    assert run(d, "lease6-wipe", {"subnet-id": 1}) == \
        {"result": 3, "text": "Deleted 0 IPv6 lease(s) from subnet(s) 1"}
    assert d.stats.value("subnet[1].assigned-nas") == 0


def test_commands_see_leases_the_pipeline_made_and_list_commands():
    d = FakeDaemon()
    one(d.pipeline, message(3, 1, ia_na(1), server_id=SERVER_DUID))
    r = run(d, "lease6-get-all")
    assert r["arguments"]["leases"][0]["ip-address"] == "2001:db8:1::10"
    r = run(d, "stat-lease6-get")
    assert r["text"] == "stat-lease6-get[all subnets]: 2 rows found"
    assert r["arguments"]["result-set"]["rows"][0][:4] == [1, 16, 1, 1]


def test_lease_cmds_absent_means_unsupported():
    d = FakeDaemon()
    d.hooks = HooksManager()
    assert run(d, "lease6-get-all") == {"result": 2,
                                        "text": "'lease6-get-all' command not supported."}
