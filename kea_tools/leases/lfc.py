"""Lease File Cleanup: Kea's kea-lfc file protocol, run as a child process.

Files, for a live lease file F (Kea ARM, "Lease File Cleanup"):
F.2 the previous cleanup result, F.1 the live file moved aside, F.output the
file being written, F.completed a finished output, F.pid the lock.

Every step leaves a set of files that loads to the same leases, so a crash at
any point loses nothing: the output is written and fsynced under a name no
loader reads, renamed to F.completed (which loaders prefer to F.2 + F.1), and
only then are F.2 and F.1 removed and F.completed renamed to F.2.

Run as ``python -m kea_tools.leases.lfc -4|-6 FILE``.
"""
import argparse
import os
import sys

from kea_tools.leases.csvfmt import FORMAT_ROW, HEADER, replay_file
from kea_tools.leases.model import addr_key


def lfc_paths(base):
    base = str(base)
    return {"previous": base + ".2", "copy": base + ".1", "output": base + ".output",
            "finish": base + ".completed", "pid": base + ".pid"}


def pid_running(pid_path):
    """The pid in ``pid_path`` when that process is alive, else None."""
    try:
        with open(pid_path, encoding="ascii") as fh:
            pid = int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return None
    if pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def replay(paths, family, leases=None, on_error=None, max_errors=0):
    """Apply the rows of ``paths`` in order (newest row wins; valid_lft 0 deletes)."""
    leases = {} if leases is None else leases
    for path in paths:
        if os.path.exists(path):
            replay_file(path, family, leases, on_error=on_error, max_errors=max_errors)
    return leases


def write_lease_file(path, family, leases, *, fsync=True):
    """Write ``leases`` (any iterable) as a fresh Kea lease file, in address order."""
    fmt = FORMAT_ROW[family]
    ordered = sorted(leases, key=lambda lease: addr_key(lease.address))
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
        fh.write(HEADER[family] + "\n")
        chunk = []
        for lease in ordered:
            chunk.append(fmt(lease))
            if len(chunk) >= 4096:
                fh.write("".join(chunk))
                chunk.clear()
        fh.write("".join(chunk))
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())


def _fsync_dir(path):
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_lfc(base, family):
    """One cleanup of ``base``'s .2 + .1 into a new .2 (kea-lfc's algorithm)."""
    p = lfc_paths(base)
    if pid_running(p["pid"]) not in (None, os.getpid()):
        return 2
    with open(p["pid"], "w", encoding="ascii") as fh:
        fh.write(f"{os.getpid()}\n")
    try:
        if not os.path.exists(p["finish"]):
            leases = replay([p["previous"], p["copy"]], family, max_errors=100)
            write_lease_file(p["output"], family, leases.values())
            os.replace(p["output"], p["finish"])
            _fsync_dir(p["finish"])
        for name in ("previous", "copy"):
            try:
                os.unlink(p[name])
            except FileNotFoundError:
                pass
        os.replace(p["finish"], p["previous"])
        _fsync_dir(p["previous"])
    finally:
        try:
            os.unlink(p["pid"])
        except FileNotFoundError:
            pass
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="kea_tools.leases.lfc",
                                     description="clean up a Kea memfile lease file set")
    family = parser.add_mutually_exclusive_group(required=True)
    family.add_argument("-4", dest="family", action="store_const", const=4)
    family.add_argument("-6", dest="family", action="store_const", const=6)
    parser.add_argument("file", help="the live lease file")
    args = parser.parse_args(argv)
    try:
        return run_lfc(args.file, args.family)
    except Exception as err:  # the parent only sees the exit status and this line
        print(f"lfc: {args.file}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
