"""Python hook libraries at Kea's callout points (see keactl-hooks(7)).

A ``hooks-libraries`` entry names a Python module (``"mypkg.myhook"``) or a
``.py`` file, with ``parameters``. Each configuration loads a fresh module
object (never shared through sys.modules), so a reload starts its state anew.
A library defines callouts as functions named after the hook points of the
server's family (``def pkt4_receive(handle): ...``, ``def pkt6_receive(handle): ...``), and optionally ``load(library)`` (gets a
:class:`LibraryHandle` with the parameters; may register more callouts or
control commands; raising refuses the configuration) and ``unload()``.

Kea's own ``libdhcp_lease_cmds.so`` and ``libdhcp_stat_cmds.so`` are accepted
and switch on the built-in commands of those libraries, ``libdhcp_bootp.so``
(DHCPv4 only) switches on BOOTP service; any other ``.so`` is refused with a
message, since keactl cannot run Kea's C++ libraries.
"""
import importlib.util
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from kea_tools.errors import UserError


# Next-step statuses a callout may set (Kea's CalloutHandle::CalloutNextStep).
CONTINUE, SKIP, DROP, PARK = 0, 1, 2, 3

# Kea 2.2's DHCPv4 hook points, in packet-processing order, then the others.
HOOK_POINTS_V4 = (
    "dhcp4_srv_configured", "buffer4_receive", "pkt4_receive", "subnet4_select",
    "host4_identifier", "lease4_select", "lease4_renew", "lease4_release", "lease4_decline",
    "leases4_committed", "pkt4_send", "buffer4_send", "lease4_expire", "lease4_recover",
    "command_processed",
)
# Kea 2.2's DHCPv6 hook points, in the same order.
HOOK_POINTS_V6 = (
    "dhcp6_srv_configured", "buffer6_receive", "pkt6_receive", "subnet6_select",
    "host6_identifier", "lease6_select", "lease6_renew", "lease6_rebind", "lease6_release",
    "lease6_decline", "leases6_committed", "pkt6_send", "buffer6_send", "lease6_expire",
    "lease6_recover", "command_processed",
)
HOOK_POINTS = {4: HOOK_POINTS_V4, 6: HOOK_POINTS_V6}

# Kea libraries whose function keactl has built in: file name -> feature.
BUILTIN_LIBRARIES = {
    "libdhcp_lease_cmds.so": "lease_cmds",
    "libdhcp_stat_cmds.so": "stat_cmds",
    "libdhcp_bootp.so": "bootp",
}
# Built-in features only one family has (Kea: "can only be loaded by kea-dhcp4").
BUILTIN_FAMILIES = {"bootp": (4,)}


class HookError(UserError):
    """A hooks-libraries entry that cannot be loaded."""


class CalloutHandle:
    """What a callout sees: named arguments (in/out) and the next-step status."""

    __slots__ = ("arguments", "status", "context")

    def __init__(self, arguments, context=None):
        self.arguments = arguments
        self.status = CONTINUE
        self.context = context if context is not None else {}

    def get_argument(self, name):
        try:
            return self.arguments[name]
        except KeyError:
            raise KeyError(f"no argument {name!r} (have: {', '.join(self.arguments)})") from None

    def set_argument(self, name, value):
        self.arguments[name] = value

    def set_status(self, status):
        self.status = status

    def get_status(self):
        return self.status


@dataclass(slots=True)
class LibraryHandle:
    """Given to a library's ``load()``: its parameters and registration calls."""

    name: str
    parameters: dict
    callouts: dict = field(default_factory=dict)
    commands: dict = field(default_factory=dict)
    points: tuple = HOOK_POINTS_V4

    def register_callout(self, point, function):
        if point not in self.points:
            raise HookError(f"{self.name}: unknown hook point {point!r}")
        self.callouts.setdefault(point, []).append(function)

    def register_command(self, name, function):
        """``function(arguments) -> response map`` answers control command ``name``."""
        self.commands[name] = function


@dataclass(slots=True)
class LoadedLibrary:
    name: str
    module: object
    handle: LibraryHandle


def _load_module(library, base_dir):
    """A fresh module object for a dotted name or a .py path."""
    path = Path(library)
    if library.endswith(".py") or os.sep in library:
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.is_file():
            raise HookError(f"hooks library {library!r}: no such file")
        spec = importlib.util.spec_from_file_location(f"keactl_hook_{path.stem}", path)
    else:
        try:
            spec = importlib.util.find_spec(library)
        except (ImportError, ValueError) as err:
            raise HookError(f"hooks library {library!r}: {err}") from None
        if spec is None:
            raise HookError(f"hooks library {library!r}: no such Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # a broken library must not take the server down
        raise HookError(f"hooks library {library!r} failed to load: "
                        f"{type(err).__name__}: {err}") from None
    return module


class HooksManager:
    """The callouts of one configuration, in library order, for the hook points
    of one family (4 or 6)."""

    def __init__(self, libraries=(), builtins=frozenset(), family=4):
        self.libraries = list(libraries)
        self.builtins = frozenset(builtins)
        self.family = family
        self.log = logging.getLogger(f"kea-dhcp{family}.hooks")
        self.callouts = {}
        self.commands = {}
        for lib in self.libraries:
            for point in HOOK_POINTS[family]:
                fn = getattr(lib.module, point, None)
                if callable(fn):
                    self.callouts.setdefault(point, []).append(fn)
            for point, fns in lib.handle.callouts.items():
                self.callouts.setdefault(point, []).extend(fns)
            self.commands.update(lib.handle.commands)

    @classmethod
    def from_config(cls, entries, base_dir=None, family=4):
        """Load ``hooks-libraries`` entries ({library, parameters} maps or objects)."""
        libraries, builtins = [], set()
        try:
            for entry in entries:
                name = entry["library"] if isinstance(entry, dict) else entry.library
                params = (entry.get("parameters", {}) if isinstance(entry, dict)
                          else entry.parameters) or {}
                if name.endswith(".so"):
                    feature = BUILTIN_LIBRARIES.get(os.path.basename(name))
                    if feature is None:
                        raise HookError(f"hooks library {name!r} is a Kea C++ library that "
                                        "keactl does not support (use a Python hook; "
                                        "see keactl-hooks(7))")
                    if family not in BUILTIN_FAMILIES.get(feature, (family,)):
                        raise HookError(f"hooks library {name!r} cannot be loaded by a "
                                        f"DHCPv{family} server")
                    builtins.add(feature)
                    continue
                module = _load_module(name, base_dir)
                handle = LibraryHandle(name, dict(params), points=HOOK_POINTS[family])
                load = getattr(module, "load", None)
                if callable(load):
                    try:
                        rc = load(handle)
                    except Exception as err:
                        raise HookError(f"hooks library {name!r}: load() failed: "
                                        f"{type(err).__name__}: {err}") from None
                    if rc not in (None, 0):
                        raise HookError(f"hooks library {name!r}: load() returned {rc}")
                libraries.append(LoadedLibrary(name, module, handle))
        except HookError:
            cls(libraries, family=family).unload()
            raise
        return cls(libraries, builtins, family)

    def has(self, point):
        return point in self.callouts

    def call(self, point, arguments):
        """Run the callouts of ``point`` in order; returns the handle (status,
        possibly changed arguments). A callout that raises is logged and skipped,
        as Kea does with a callout returning an error."""
        handle = CalloutHandle(arguments)
        for fn in self.callouts.get(point, ()):
            try:
                fn(handle)
            except Exception as err:
                self.log.error("HOOKS_CALLOUT_ERROR error returned by callout on hook %s: %s: %s",
                          point, type(err).__name__, err)
        return handle

    def unload(self):
        for lib in self.libraries:
            unload = getattr(lib.module, "unload", None)
            if callable(unload):
                try:
                    unload()
                except Exception as err:
                    self.log.error("hooks library %s: unload() failed: %s", lib.name, err)
        self.libraries = []
        self.callouts = {}
        self.commands = {}
