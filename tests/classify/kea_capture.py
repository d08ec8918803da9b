"""Capture Kea 2.2's verdict on expressions: ``python -m tests.classify.kea_capture``.

Each expression of data/expressions4.txt / expressions6.txt is put in a class
test and checked with ``kea-dhcp4 -t`` / ``kea-dhcp6 -t``; the verdicts (accepted,
or Kea's error text with its ``<string>:line.col[-col]`` location) are written to
data/kea22_parse.json, which test_kea_parity.py compares the parser with.
"""
import json
import re
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "data"
# Classes defined before the tested one, so member() has something to refer to.
PRIOR_CLASSES = ["foobar", "DROP"]
_ERROR = re.compile(r"error: (<string>:\S+: .*) at \(")


def kea_verdict(expr, universe, workdir):
    key = f"Dhcp{universe}"
    classes = [{"name": n} for n in PRIOR_CLASSES] + [{"name": "tested", "test": expr}]
    cfg = {key: {"client-classes": classes,
                 "lease-database": {"type": "memfile", "persist": False}}}
    path = Path(workdir) / f"kea{universe}.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    run = subprocess.run([f"kea-dhcp{universe}", "-t", str(path)],
                         capture_output=True, text=True, timeout=30)
    if run.returncode == 0:
        return True, ""
    found = _ERROR.search(run.stdout + run.stderr)
    return False, found.group(1) if found else (run.stdout + run.stderr).strip()[-300:]


def main():
    out = []
    with tempfile.TemporaryDirectory() as workdir:
        for universe in (4, 6):
            lines = (HERE / f"expressions{universe}.txt").read_text(encoding="utf-8")
            for expr in lines.splitlines():
                if expr.strip() and not expr.startswith("#"):
                    ok, message = kea_verdict(expr, universe, workdir)
                    out.append({"universe": universe, "expression": expr,
                                "accepted": ok, "message": message})
    (HERE / "kea22_parse.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"{len(out)} verdicts written")


if __name__ == "__main__":
    main()
