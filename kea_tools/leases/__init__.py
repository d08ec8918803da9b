"""Lease storage: Lease4/Lease6, the back-end interface and the back ends.

``open_backend(spec, family)`` takes Kea's ``lease-database`` map or a URL:

- ``memfile:/path/leases4.csv`` (``memfile:`` alone keeps leases in memory only)
- ``sqlite:///path.db``
- ``postgresql://user:password@host:port/dbname``

Query parameters on a URL become map keys (``memfile:/x.csv?lfc-interval=0``).
"""
import importlib
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from kea_tools.errors import UserError
from kea_tools.leases.backend import (BackendError, DuplicateLeaseError, LeaseBackend,
                                      LeaseError, LeaseNotFoundError)
from kea_tools.leases.model import Lease4, Lease6

# lease-database "type" -> "module:class"; a new back end is one line here.
BACKENDS = {
    "memfile": "kea_tools.leases.memfile:MemfileBackend",
    "sqlite": "kea_tools.leases.sqlite:SqliteBackend",
    "postgresql": "kea_tools.leases.pgsql:PgsqlBackend",
}

# URL scheme -> lease-database type.
SCHEMES = {"memfile": "memfile", "sqlite": "sqlite", "postgresql": "postgresql",
           "postgres": "postgresql", "pgsql": "postgresql"}

# Map keys whose URL query values are not strings.
_TYPED_KEYS = {"persist": "bool", "lfc-interval": "int", "max-row-errors": "int",
               "port": "int", "connect-timeout": "int", "max-reconnect-tries": "int",
               "reconnect-wait-time": "int", "fsync": "bool", "readonly": "bool"}

__all__ = ["BACKENDS", "BackendError", "DuplicateLeaseError", "Lease4", "Lease6",
           "LeaseBackend", "LeaseError", "LeaseNotFoundError", "open_backend", "parse_spec"]


def _typed(key, value):
    kind = _TYPED_KEYS.get(key)
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise UserError(f"lease database: {key} must be an integer, not {value!r}") from None
    if kind == "bool":
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise UserError(f"lease database: {key} must be true or false, not {value!r}")
        return value.lower() in ("true", "1", "yes")
    return value


def parse_url(url):
    """A lease database URL -> a Kea ``lease-database`` map."""
    scheme, sep, rest = url.partition(":")
    kind = SCHEMES.get(scheme.lower())
    if not sep or kind is None:
        raise UserError(f"unknown lease database URL {url!r} "
                        "(use memfile:PATH, sqlite:///PATH or postgresql://USER@HOST/DB)")
    parts = urlsplit(url)
    spec = {"type": kind}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        spec[key] = _typed(key, value)
    if kind == "postgresql":
        if parts.hostname:
            spec["host"] = parts.hostname
        try:
            port = parts.port
        except ValueError:
            raise UserError(f"bad port in lease database URL {url!r}") from None
        if port:
            spec["port"] = port
        if parts.username:
            spec["user"] = unquote(parts.username)
        if parts.password:
            spec["password"] = unquote(parts.password)
        name = parts.path.lstrip("/")
        if not name:
            raise UserError(f"lease database URL {url!r} names no database")
        spec["name"] = unquote(name)
        return spec
    path = unquote(parts.path if parts.netloc == "" else parts.netloc + parts.path)
    if kind == "sqlite":
        if not path:
            raise UserError(f"lease database URL {url!r} names no file")
        spec["name"] = path
    elif path:
        spec["name"] = path
    else:
        spec.setdefault("persist", False)
    return spec


def parse_spec(spec):
    """A URL or a ``lease-database`` map -> a map with a known ``type``."""
    if isinstance(spec, str):
        return parse_url(spec)
    if not isinstance(spec, dict):
        raise UserError("lease-database must be a map or a URL")
    spec = dict(spec)
    spec["type"] = SCHEMES.get(str(spec.get("type", "memfile")).lower(), spec.get("type"))
    if spec["type"] not in BACKENDS:
        raise UserError(f"lease-database: unknown type {spec['type']!r} "
                        f"(known: {', '.join(sorted(BACKENDS))})")
    return spec


def open_backend(spec, family=4, *, config_dir=None, append_only=False):
    """Open the lease back end described by ``spec`` (URL or Kea map) for ``family``.

    Relative file names are taken relative to ``config_dir`` (the directory of the
    Kea config that named them) when it is given. ``append_only`` is for bulk
    imports: a persistent memfile is then opened as a
    :class:`~kea_tools.leases.memfile.MemfileJournal` (add-or-replace by appending,
    without loading the file); other back ends open as usual.
    """
    spec = parse_spec(spec)
    if family not in (4, 6):
        raise UserError(f"family must be 4 or 6, not {family!r}")
    name = spec.get("name")
    if spec["type"] in ("memfile", "sqlite") and name and config_dir is not None:
        if not Path(name).is_absolute():
            spec["name"] = str(Path(config_dir) / name)
    if append_only and spec["type"] == "memfile" and spec.get("persist", True):
        from kea_tools.leases.memfile import MemfileJournal
        return MemfileJournal(family, spec.get("name"))
    module, _, attr = BACKENDS[spec["type"]].partition(":")
    return getattr(importlib.import_module(module), attr).from_spec(spec, family)
