"""The spec's readings are cited by number ("docs/READINGS.md, reading 32"): the numbers
stand in order in docs/READINGS.md, each once, and every number cited in the code, the
tests and the docs is one of them (a reading moved or renumbered must not leave a citation
pointing nowhere)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READINGS = ROOT / "docs" / "READINGS.md"
CITED = re.compile(r"\breadings? (\d+(?:, \d+)*(?:,? and \d+)?)", re.IGNORECASE)


def reading_numbers(text: str) -> list[int]:
    """The numbers of the readings, as they stand (``12. **Digits** ...``)."""
    return [int(n) for n in re.findall(r"^(\d+)\. \*\*", text, re.MULTILINE)]


def cited_numbers(text: str) -> set[int]:
    """Every reading number ``text`` cites ("reading 6", "readings 20, 23 and 26")."""
    return {int(n) for match in CITED.findall(text) for n in re.findall(r"\d+", match)}


def citing_files() -> list[Path]:
    roots = ["backtest", "tests", "tasks", "farm", "bench", "docs", "strategies"]
    files = [p for r in roots for p in (ROOT / r).rglob("*") if p.suffix in (".py", ".md")]
    return sorted([*files, ROOT / "README.md", ROOT / "fabfile.py"])


def test_the_readings_stand_in_order_once_each():
    # Act
    numbers = reading_numbers(READINGS.read_text())
    # Assert
    assert numbers == sorted(set(numbers))
    assert numbers[0] == 1


def test_every_cited_reading_exists():
    # Arrange
    known = set(reading_numbers(READINGS.read_text()))
    # Act
    missing = {
        f"{p.relative_to(ROOT)}: reading {n}"
        for p in citing_files()
        if p != READINGS
        for n in cited_numbers(p.read_text())
        if n not in known
    }
    # Assert
    assert sorted(missing) == []


def test_no_citation_points_to_the_architecture_page():
    # Act: the readings stood in the architecture page before (docs/READINGS.md now)
    stale = [
        str(p.relative_to(ROOT))
        for p in citing_files()
        if re.search(r"ARCHITECTURE(\.md)?,?\s+(spec\s+)?reading", p.read_text())
    ]
    # Assert
    assert stale == []


def test_the_citation_pattern_finds_lists():
    assert cited_numbers("see readings 20, 23, 24 and 26; reading 5") == {5, 20, 23, 24, 26}
