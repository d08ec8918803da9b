"""``python -m kea_tools.server -c FILE [-p PORT] [-P PORT] [-d]``: the daemon
without the CLI around it (kea-dhcp4's / kea-dhcp6's options), for tests and
benchmarks; the file's Dhcp4 or Dhcp6 object decides the family."""
import argparse
import sys

from kea_tools.errors import UserError
from kea_tools.server.daemon import run


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kea_tools.server")
    parser.add_argument("-c", dest="config", required=True,
                        help="Kea configuration file (Dhcp4 or Dhcp6)")
    parser.add_argument("-p", dest="port", type=int, default=None,
                        help="server port (67 for DHCPv4, 547 for DHCPv6)")
    parser.add_argument("-P", dest="client_port", type=int, default=None,
                        help="port every direct reply is sent to (testing aid, as kea-dhcp4 -P)")
    parser.add_argument("-d", dest="debug", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    try:
        return run(args.config, port=args.port, client_port=args.client_port, debug=args.debug)
    except UserError as err:
        print(f"keactl serve: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
