"""DHCPv4/DHCPv6 packets and options (no sockets).

v4 / v6: packets and their raw options; types: Kea's option data types;
optiondefs: standard and custom option definitions, typed values and Kea's
option-data text; describe: packets as plain data and text; pcap: capture
reader; cli: ``keactl decode``.
"""
