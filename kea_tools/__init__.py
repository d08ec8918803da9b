"""keactl's shared library: codec, config, leases and classification.

Nothing here opens sockets, starts threads or decides CLI policy; the server,
migrator and simulator (kea_tools.server, kea_tools.migrate, kea_tools.sim) build
on it.
"""

__version__ = "0.1.0"
