"""Kea JSON configuration: the dialect (jsonc), the grammar (schema), the model.

``load_file(path)`` reads a Kea configuration file (comments, includes) and
returns a :class:`~kea_tools.config.loader.LoadResult` whose ``config`` is a
validated :class:`~kea_tools.config.model.DhcpConfig`; ``build(section, family)``
validates a Dhcp4/Dhcp6 map handed over by a control command.  Errors are
``SourceError`` (``file:line:col: message (json.path)``) and ``ConfigError``.
"""
from kea_tools.config.loader import ConfigError, LoadResult, build, load_file

__all__ = ["ConfigError", "LoadResult", "build", "load_file"]
