"""The keama test corpus in ../shared/corpus/keama, read through its INDEX.md."""
import re
from dataclasses import dataclass

from tests.conftest import SHARED

KEAMA = SHARED / "corpus" / "keama"


@dataclass(slots=True)
class Case:
    name: str
    input: str
    families: tuple
    expected: str      # expected output file (working) or .msg file (error)
    flags: str


def _rows(section):
    text = (KEAMA / "INDEX.md").read_text()
    part = text.split(section, 1)[1].split("\n## ", 1)[0]
    for line in part.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[0] not in ("test", "---") and not set(cells[0]) <= {"-"}:
            yield cells


def _families(flags, inp):
    if "-4 and -6" in flags:
        return (4, 6)
    return (6,) if "-6" in flags else (4,)


def working_cases():
    if not (KEAMA / "INDEX.md").exists():
        return []
    out = []
    for cells in _rows("## Working tests"):
        name, inp, flags, _covers, expected = cells[:5]
        out.append(Case(name, inp, _families(flags, inp), expected, flags))
    return out


def error_cases():
    if not (KEAMA / "INDEX.md").exists():
        return []
    out = []
    for cells in _rows("## Error tests"):
        name, inp, flags, _covers, msgfile = cells[:5]
        for fam in _families(flags, inp):
            out.append(Case(f"{name}-{fam}", inp, (fam,), msgfile, flags))
    return out


def expected_message(case):
    """(file, line, message) from a keama ``.msg`` file (``FILE line N: message``)."""
    text = (KEAMA / case.expected).read_text().splitlines()[0]
    m = re.match(r"(\S+) line (\d+): (.*)", text)
    return m.group(1), int(m.group(2)), m.group(3)
