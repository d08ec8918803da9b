"""Tests for kea_tools.leases: back ends, Kea interop, the `keactl leases` shell."""
