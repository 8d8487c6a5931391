"""Rule coverage of a test run: which rules matched in some case and which ever gave an output its value.

Rules are counted for the file that defines them (`rule.span.file`), whichever policy imported
them: a stdlib module's rule that an application's case matches is covered, but the application's
total is not lowered by the stdlib rules it never uses. The total counts only the files that a
test file of the run tests (its policy); the rules of other imported files are reported apart.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.evaluator import Decision, Policy


@dataclass(frozen=True, slots=True)
class RuleCoverage:
    """One rule: in how many cases it matched, and in how many it gave an output its value."""

    rule: str
    file: str
    line: int
    matched: int
    decided: int


@dataclass(frozen=True)
class FileCoverage:
    """The rules one file defines. `tested`: the file is the policy of a test file in the run."""

    file: str
    tested: bool
    rules: tuple[RuleCoverage, ...]

    @property
    def matched(self) -> int:
        return sum(1 for rule in self.rules if rule.matched)

    @property
    def decided(self) -> int:
        return sum(1 for rule in self.rules if rule.decided)

    @property
    def percent(self) -> float | None:
        """Rules matched in at least one case, in percent; None for a file without rules."""
        return percent(self.matched, len(self.rules)) if self.rules else None

    @property
    def never_matched(self) -> list[RuleCoverage]:
        return [rule for rule in self.rules if not rule.matched]

    @property
    def never_decided(self) -> list[RuleCoverage]:
        """Rules that matched but lost every output they set, in every case (overridden each time)."""
        return [rule for rule in self.rules if rule.matched and not rule.decided]


@dataclass(frozen=True)
class Coverage:
    """Per file, its rules' coverage; the totals are over the tested files only."""

    files: tuple[FileCoverage, ...] = ()

    @property
    def tested(self) -> list[FileCoverage]:
        return [file for file in self.files if file.tested]

    @property
    def imported(self) -> list[FileCoverage]:
        """Files whose rules came in through imports only, with no test file of their own in the run."""
        return [file for file in self.files if not file.tested]

    @property
    def rules(self) -> int:
        return sum(len(file.rules) for file in self.tested)

    @property
    def matched(self) -> int:
        return sum(file.matched for file in self.tested)

    @property
    def decided(self) -> int:
        return sum(file.decided for file in self.tested)

    @property
    def percent(self) -> float:
        """Rules of the tested files matched in at least one case; 100 when they have no rules."""
        return percent(self.matched, self.rules) if self.rules else 100.0

    def below(self, threshold: float) -> bool:
        """Whether the total is below `threshold` percent, compared exactly (not the rounded figure)."""
        return self.matched * 100 < threshold * self.rules if self.rules else False

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "matched": self.matched,
            "decided": self.decided,
            "percent": self.percent,
            "files": [
                {
                    "file": file.file,
                    "tested": file.tested,
                    "percent": file.percent,
                    "rules": [
                        {"rule": r.rule, "line": r.line, "matched": r.matched, "decided": r.decided} for r in file.rules
                    ],
                }
                for file in self.files
            ],
        }


def percent(part: int, whole: int) -> float:
    """`part` of `whole` in percent, rounded down to a tenth, so that 99.96% never shows as 100%."""
    return math.floor(part * 1000 / whole) / 10


def format_percent(value: float | None) -> str:
    """`100%`, `87.5%`, or `-` for nothing to cover."""
    if value is None:
        return "-"
    return f"{value:.1f}".removesuffix(".0") + "%"


_Key = tuple[str, int]
"""A rule by where it is written: (the defining file's real path, offset), the same whichever
policy imported it."""


class CoverageCounter:
    """Counts, over a run, the cases in which each rule matched and in which it decided an output."""

    def __init__(self) -> None:
        self._files: dict[str, str] = {}  # real path -> name as shown
        self._rules: dict[_Key, list[Any]] = {}  # key -> [rule id, line, matched, decided]
        self._keys: dict[int, dict[str, _Key]] = {}  # id(policy) -> rule id -> key
        self._tested: set[str] = set()
        self._policies: list[Policy] = []  # kept alive, so that id(policy) stays unique

    def add(self, policy: Policy) -> None:
        """Count the rules of a policy whose test file runs; its own file is a tested file."""
        root = _real(policy.checked.root)
        self._tested.add(root)
        self._files.setdefault(root, policy.checked.root)
        if id(policy) in self._keys:
            return
        self._policies.append(policy)
        keys: dict[str, _Key] = {}
        for rule in policy.checked.rules:
            real = _real(rule.span.file)
            key = (real, rule.span.start)
            keys[rule.id] = key
            self._files.setdefault(real, rule.span.file)
            entry = self._rules.setdefault(key, [rule.id, rule.span.line, 0, 0])
            if not rule.module:
                entry[0] = rule.id  # the id the file's own policy gives it (no import prefix)
        self._keys[id(policy)] = keys

    def record(self, policy: Policy, decision: Decision) -> None:
        """Count one case's decision."""
        keys = self._keys[id(policy)]
        for rule in decision.fired:
            self._rules[keys[rule]][2] += 1
        decided = {rule for resolved in decision.resolutions.values() for rule in resolved.winners}
        for rule in decided:
            self._rules[keys[rule]][3] += 1

    def result(self) -> Coverage:
        by_file: dict[str, list[RuleCoverage]] = {}
        for (real, _), (rule, line, matched, decided) in self._rules.items():
            by_file.setdefault(real, []).append(RuleCoverage(rule, self._files[real], line, matched, decided))
        for real in self._tested:
            by_file.setdefault(real, [])  # a tested file without rules still has its row
        files = [
            FileCoverage(self._files[real], real in self._tested, tuple(sorted(rules, key=lambda r: r.line)))
            for real, rules in by_file.items()
        ]
        files.sort(key=lambda f: (not f.tested, f.file))
        return Coverage(tuple(files))


def _real(name: str) -> str:
    return os.path.realpath(name)
