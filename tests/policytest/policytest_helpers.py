"""Shared by the `policy test` tests: a small policy whose coverage is known, suites that pass and
fail, and a way to run the command in a subprocess.

The suites are written into a temporary folder by each test rather than kept as `*.test.yaml`
files in the repository, where `policy test` run from the top would find the deliberately failing
and malformed ones.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SHIPPING = """\
policy shipping "Delivery of orders"

input {
    tier: enum(basic, gold)
    weight: number
    express: bool = false
    country: string = "nl"
}

output {
    speed: enum(slow, normal, fast) = normal resolve max
    fee: number = 5 resolve min
    extras: set[string] = {} resolve union
    courier: string
}

rule gold_free:
    if tier == gold
    then fee = 0, extras += {tracking}

rule heavy:
    if weight > 20
    then fee = 15

rule express_delivery:
    if express
    then speed = fast

rule abroad:
    if country != "nl"
    then speed = slow
"""
"""Four rules; the passing suite matches three (`abroad` never), and `heavy` only ever matches
beside `gold_free`, whose fee of 0 wins under `resolve min`: matched, never decided."""

PASSING = """\
cases:
  - name: gold members ship for free with tracking
    facts: {tier: gold, weight: 2}
    expect:
      fee: 0
      extras: [tracking]
      speed: normal
      courier: ~
    fired: [gold_free]

  - name: a heavy gold parcel is still free
    facts: {tier: gold, weight: 25}
    expect: {fee: 0.00}
    fired: [gold_free, heavy]

  - name: express is fast
    facts: {tier: basic, weight: 1, express: true}
    expect: {speed: fast, fee: 5}
    fired_includes: [express_delivery]
    not_fired: [gold_free]
"""

FAILING = """\
policy: shipping.policy
cases:
  - name: basic parcels pay the standard fee
    facts: {tier: basic, weight: 1}
    expect: {fee: 5, speed: normal}

  - name: a wrong fee and extras
    facts: {tier: gold, weight: 1}
    expect:
      fee: 5
      extras: [tracking, insurance]
      speed: normal

  - name: the wrong rules fire
    facts: {tier: gold, weight: 30}
    fired: [heavy, express_delivery]

  - name: no courier is named, but a default is not nothing
    facts: {tier: basic, weight: 1}
    expect: {courier: ~, speed: ~}

  - name: an error that does not happen
    facts: {tier: basic, weight: 1}
    error: {code: facts-error, message: weight}

  - name: a fact of the wrong type
    facts: {tier: basic, weight: heavy}
    expect: {fee: 5}
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    """Write files (name -> text) into `folder`; returns the folder."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def policy_test(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`policy test ARGS` in a subprocess, without colour; never a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "policylang", "test", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def steady(text: str) -> str:
    """Output with the run's duration fixed, for golden files."""
    return re.sub(r" in \d+\.\d\ds$", " in 0.00s", text, flags=re.M)
