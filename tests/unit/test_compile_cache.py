"""The compile cache (engine/compile_cache.py; issue 14): a hit unpickles the policy without
checking or compiling; any change that could change the policy misses; a corrupt, foreign or
unwritable entry costs a warning and a compile, never a wrong decision."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from conftest import ROOT

import policylang
from policylang import api
from policylang.engine import compile_cache

MAIN = """\
import "rates.policy" as rates
input {
    tier: enum(basic, premium)
    spend: number
}
output {
    discount: number = 0 resolve max
}
rule big: if spend >= rates.limit then discount = 0.1
rule premium: if tier == premium then discount = 0.05
"""
RATES = "let limit = 500\n"
FACTS = {"tier": "basic", "spend": 600}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "main.policy").write_text(MAIN)
    (tmp_path / "rates.policy").write_text(RATES)
    return tmp_path


def _load(project: Path, cache: Path, **options: Any) -> policylang.Policy:
    return policylang.load(project / "main.policy", cache_dir=cache, refuse_conflicts=False, **options)


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*.policy-cache"))


class _Compiles:
    """Counts the policies checked (and so compiled) through the cache."""

    def __init__(self) -> None:
        self.count = 0
        self._check = api.check

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return self._check(*args, **kwargs)


@pytest.fixture
def compiles() -> Any:
    counter = _Compiles()
    with mock.patch.object(api, "check", counter):
        yield counter


def test_a_hit_loads_the_same_policy_without_compiling(project: Path, tmp_path: Path, compiles: _Compiles) -> None:
    cache = tmp_path / "cache"
    first = _load(project, cache)
    assert compiles.count == 1 and len(_entries(cache)) == 1
    second = _load(project, cache)
    assert compiles.count == 1
    assert second is not first
    assert second.content_hash == first.content_hash
    assert second.decide(FACTS).outputs == first.decide(FACTS).outputs == {"discount": Decimal("0.1")}
    assert second.decide(FACTS).fired == first.decide(FACTS).fired


@pytest.mark.parametrize("changed", ["main.policy", "rates.policy"])
def test_any_source_change_misses(project: Path, tmp_path: Path, compiles: _Compiles, changed: str) -> None:
    cache = tmp_path / "cache"
    _load(project, cache)
    path = project / changed
    path.write_text(path.read_text().replace("500", "700").replace("0.1", "0.2"))
    policy = _load(project, cache)
    assert compiles.count == 2
    expected = {"discount": Decimal("0.2")} if changed == "main.policy" else {"discount": 0}
    assert policy.decide(FACTS).outputs == expected


def test_an_import_pointed_elsewhere_misses(project: Path, tmp_path: Path, compiles: _Compiles) -> None:
    """The same texts, but `rates.policy` now a link to another file: the import resolves elsewhere."""
    (project / "other.policy").write_text("let limit = 900\n")
    (project / "rates.policy").rename(project / "old_rates.policy")
    (project / "rates.policy").symlink_to(project / "old_rates.policy")
    cache = tmp_path / "cache"
    assert _load(project, cache).decide(FACTS).outputs["discount"] == Decimal("0.1")
    (project / "rates.policy").unlink()
    (project / "rates.policy").symlink_to(project / "other.policy")
    assert _load(project, cache).decide(FACTS).outputs["discount"] == 0
    assert compiles.count == 2


def test_other_options_and_another_build_miss(project: Path, tmp_path: Path, compiles: _Compiles) -> None:
    cache = tmp_path / "cache"
    _load(project, cache)
    _load(project, cache, unknown_facts="ignore")
    assert compiles.count == 2
    with mock.patch.object(compile_cache, "build_id", lambda: "0.0.0+another"):
        _load(project, cache)
    assert compiles.count == 3
    assert len(_entries(cache)) == 3


def test_a_corrupt_entry_is_compiled_again_with_a_warning(project: Path, tmp_path: Path, compiles: _Compiles) -> None:
    cache = tmp_path / "cache"
    _load(project, cache)
    (entry,) = _entries(cache)
    data = entry.read_bytes()
    for garbled in (data[: len(data) // 2], b"not a cache entry", data[:40] + b"\x00" * 50 + data[90:]):
        entry.write_bytes(garbled)
        with pytest.warns(policylang.CompileCacheWarning, match="ignored"):
            policy = _load(project, cache)
        assert policy.decide(FACTS).outputs == {"discount": Decimal("0.1")}
        assert entry.read_bytes() != garbled  # written anew (whole: it loads below)
    assert compiles.count == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _load(project, cache)  # the rewritten entry is good
    assert compiles.count == 4


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="ownership and modes are POSIX")
def test_an_entry_others_may_write_is_not_trusted(project: Path, tmp_path: Path, compiles: _Compiles) -> None:
    cache = tmp_path / "cache"
    _load(project, cache)
    (entry,) = _entries(cache)
    entry.chmod(0o666)
    with pytest.warns(policylang.CompileCacheWarning, match="others may write"):
        _load(project, cache)
    assert compiles.count == 2


def test_a_cache_that_cannot_be_written_warns_and_loads(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    with pytest.warns(policylang.CompileCacheWarning, match="cannot write"):
        policy = _load(project, blocker / "cache")
    assert policy.decide(FACTS).outputs == {"discount": Decimal("0.1")}
    assert list(tmp_path.glob("**/*.partial")) == []


def test_a_policy_with_errors_is_not_cached(project: Path, tmp_path: Path) -> None:
    (project / "main.policy").write_text(MAIN.replace("discount = 0.05", "discount = premium"))
    cache = tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(policylang.PolicyError):
            _load(project, cache)
    assert _entries(cache) == []


def test_an_unreadable_file_is_the_same_error_with_a_cache(tmp_path: Path) -> None:
    with pytest.raises(policylang.PolicyError) as without:
        policylang.load(tmp_path / "missing.policy")
    with pytest.raises(policylang.PolicyError) as with_cache:
        policylang.load(tmp_path / "missing.policy", cache_dir=tmp_path / "cache")
    assert str(with_cache.value) == str(without.value)


def test_the_environment_variable_names_the_cache(project: Path, tmp_path: Path, compiles: _Compiles) -> None:
    cache = tmp_path / "from-env"
    with mock.patch.dict(os.environ, {compile_cache.ENVIRONMENT: str(cache)}):
        policylang.load(project / "main.policy", refuse_conflicts=False)
        policylang.load(project / "main.policy", refuse_conflicts=False)
    assert compiles.count == 1 and len(_entries(cache)) == 1


def test_no_cache_is_read_unless_named(project: Path) -> None:
    with (
        mock.patch.dict(os.environ, {}, clear=False),
        mock.patch.object(compile_cache, "cached", side_effect=AssertionError("a cache was used")),
    ):
        os.environ.pop(compile_cache.ENVIRONMENT, None)
        policy = policylang.load(project / "main.policy", refuse_conflicts=False)
    assert policy.decide(FACTS).outputs == {"discount": Decimal("0.1")}


def test_a_cached_policy_records_in_the_log_it_is_loaded_with(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _load(project, cache)
    with policylang.open_log(tmp_path / "log.db") as log:
        policy = _load(project, cache, log=log)
        decision = policy.decide(FACTS)
        assert decision.id is not None


def test_policy_eval_uses_the_cache_dir(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "policylang", "eval", "main.policy", "--set", "tier=basic", "--set", "spend=600"]
    for _ in range(2):
        result = subprocess.run(
            [*command, "--cache-dir", str(cache), "--format", "json"],
            capture_output=True,
            text=True,
            cwd=project,
            env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert '"discount": 0.1' in result.stdout
    assert len(_entries(cache)) == 1
