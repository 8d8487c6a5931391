"""Issue 14 review, as a hostile new user: Facts, decide_many, the compile cache and analysis
progress given wrong types, foreign entries and callbacks that raise. Each bad input is a clear
PolicylangError (or the caller's own exception, where the docs say so), never a traceback from
inside policylang and never a silently wrong decision."""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import policylang
from policylang.cli import app
from policylang.engine import compile_cache

POLICY = """\
input {
    tier: enum(basic, premium)
    spend: number
}
output {
    discount: number = 0 resolve max
}
rule big: if spend >= 500 then discount = 0.1
rule premium: if tier == premium then discount = 0.05
"""
FACTS = {"tier": "basic", "spend": 600}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "main.policy"
    path.write_text(POLICY)
    return path


def _load(path: Path, cache: Any, **options: Any) -> policylang.Policy:
    return policylang.load(path, cache_dir=cache, refuse_conflicts=False, **options)


# -- the compile cache -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "held",
    [((), "not a policy"), (("x",), None), ((((1, 2),), ()), "x"), "no tuple", ((), 3.5)],
    ids=["empty manifest and a str", "short manifest", "bad manifest rows", "not a pair", "a float"],
)
def test_an_entry_holding_something_else_is_ignored_with_a_warning(
    policy_file: Path, tmp_path: Path, held: Any
) -> None:
    """An entry with the right header whose pickle is not (manifest, Policy) was returned as the
    policy (a str "decided") or raised a ValueError out of load()."""
    cache = tmp_path / "cache"
    _load(policy_file, cache)
    (entry,) = cache.glob("*.policy-cache")
    entry.write_bytes(compile_cache._MAGIC + pickle.dumps(held))
    with pytest.warns(policylang.CompileCacheWarning, match="cannot be read back"):
        policy = _load(policy_file, cache)
    assert isinstance(policy, policylang.Policy)
    assert policy.decide(FACTS).outputs == {"discount": Decimal("0.1")}


@pytest.mark.parametrize("cache_dir", [3, "", b"cache", 1.5, ["cache"]])
def test_a_cache_dir_that_is_not_a_folder_path_is_a_usage_error(policy_file: Path, cache_dir: Any) -> None:
    """`cache_dir=""` cached in the working directory; an int raised TypeError from pathlib."""
    with pytest.raises(policylang.UsageError, match="must be a folder's path"):
        _load(policy_file, cache_dir)


@pytest.mark.parametrize("command", ["eval", "explain"])
def test_an_empty_cache_dir_option_is_a_usage_error(
    policy_file: Path, tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, [command, str(policy_file), "--set", "tier=basic", "--set", "spend=1", "--cache-dir", ""]
    )
    assert result.exit_code == 2
    assert "--cache-dir" in result.output
    assert list(tmp_path.glob("*.policy-cache")) == []
