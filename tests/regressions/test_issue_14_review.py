"""Issue 14 review, as a hostile new user: Facts, decide_many, the compile cache and analysis
progress given wrong types, foreign entries and callbacks that raise. Each bad input is a clear
PolicylangError (or the caller's own exception, where the docs say so), never a traceback from
inside policylang and never a silently wrong decision."""

from __future__ import annotations

import os
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import policylang
from policylang.analysis import analyser
from policylang.analysis.progress import AnalysisProgress
from policylang.api import with_analysis
from policylang.cli import app
from policylang.cli.progress import ProgressLine
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


# -- analysis progress -------------------------------------------------------------------------

CONFLICTING = POLICY.replace("resolve max", "resolve unique")


class Cancelled(Exception):
    """What a caller's progress callback raises to stop a long analysis."""


def _cancel(report: Any) -> None:
    raise Cancelled(report.phase)


@pytest.mark.parametrize("wrong", [3, "print", True, [print]])
def test_a_progress_that_cannot_be_called_is_a_usage_error_before_any_work(policy_file: Path, wrong: Any) -> None:
    """It was a TypeError from the analysis (analyse), an internal-error diagnostic "this is a bug
    in policylang" (with_analysis), or ignored (load, on a remembered verdict)."""
    policy = _load(policy_file, None)
    report = policylang.check_file(policy_file)
    for call in (
        lambda: policy.analyse(progress=wrong),
        lambda: with_analysis(report, progress=wrong),
        lambda: policylang.load(policy_file, progress=wrong),
    ):
        with pytest.raises(policylang.UsageError, match="progress must be a function"):
            call()


def test_an_exception_the_callback_raises_comes_out_as_raised(tmp_path: Path) -> None:
    """docs/analysis.md: it ends the analysis and comes out of analyse, load and with_analysis;
    load and with_analysis reported it as a bug of policylang (an internal-error)."""
    path = tmp_path / "fresh.policy"  # never analysed: no remembered verdict
    path.write_text(CONFLICTING)
    policy = policylang.load(path, refuse_conflicts=False)
    with pytest.raises(Cancelled):
        policy.analyse(progress=_cancel)
    with pytest.raises(Cancelled):
        with_analysis(policylang.check_file(path), progress=_cancel)
    with pytest.raises(Cancelled):
        policylang.load(path, progress=_cancel)


def test_an_exception_from_inside_the_analysis_is_still_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the callback's own exception passes through; a failure of the analysis itself stays an
    internal-error, also while a callback is given."""
    path = tmp_path / "fresh.policy"
    path.write_text(CONFLICTING)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("analysis bug")

    monkeypatch.setattr(analyser, "analyse_within", broken)
    monkeypatch.setattr(analyser, "analyse", broken)
    analysed = with_analysis(policylang.check_file(path), progress=lambda report: None)
    assert [d.code for d in analysed.diagnostics if d.is_error] == [policylang.Code.INTERNAL_ERROR]
    with pytest.raises(policylang.PolicyError, match="analysis bug"):
        policylang.load(path, progress=lambda report: None)


class _ClosedTerminal:
    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")

    def flush(self) -> None:
        raise OSError(5, "Input/output error")


def test_a_progress_line_on_a_terminal_that_went_away_does_not_stop_the_analysis() -> None:
    line = ProgressLine("big.policy", _ClosedTerminal())  # type: ignore[arg-type]  # a stream that fails
    with line:
        line.start()
        line(AnalysisProgress("conflicts", 1, 2, "rules", 0.0))
    assert not line.active


# -- decide_many -------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [None, 3, FACTS, "tier", b"tier"], ids=["None", "int", "a dict", "str", "bytes"])
def test_a_batch_that_is_not_fact_sets_is_a_usage_error(policy_file: Path, batch: Any) -> None:
    """None raised TypeError; one dict of facts was iterated by name ("facts must be a mapping ...,
    got 'tier'"), which reads as if the facts were wrong."""
    policy = _load(policy_file, None)
    with pytest.raises(policylang.UsageError, match="decide_many takes an iterable of fact sets"):
        list(policy.decide_many(batch))


def test_one_facts_object_as_the_batch_is_a_usage_error(policy_file: Path) -> None:
    policy = _load(policy_file, None)
    with pytest.raises(policylang.UsageError, match=r"use decide\(\), or give \[facts\]"):
        list(policy.decide_many(policy.facts(FACTS)))


@pytest.mark.parametrize("fired", [1, 0, "no", None])
def test_fired_that_is_not_a_bool_is_a_usage_error(policy_file: Path, fired: Any) -> None:
    """`fired="no"` decided with the full function, as True does: a truthy string taken for yes."""
    policy = _load(policy_file, None)
    with pytest.raises(policylang.UsageError, match="fired must be True or False"):
        list(policy.decide_many([FACTS], fired=fired))


@pytest.mark.parametrize("fired", [False, True])
def test_bad_items_mixed_in_stop_decide_many_with_decides_own_error(policy_file: Path, fired: bool) -> None:
    policy = _load(policy_file, None)
    other = policylang.compile(POLICY.replace("premium", "gold"), filename="other.policy")
    for bad in (None, {"tier": "gold", "spend": 1}, other.facts({"tier": "gold", "spend": 1}), [("tier", "basic")]):
        with pytest.raises(policylang.FactsError) as expected:
            policy.decide(bad)
        got: list[Any] = []
        with pytest.raises(policylang.FactsError) as raised:
            got.extend(policy.decide_many([FACTS, policy.facts(FACTS), bad, FACTS], fired=fired))
        assert str(raised.value) == str(expected.value)
        assert [d.outputs for d in got] == [{"discount": Decimal("0.1")}] * 2


def test_a_deleted_working_directory_loads_with_and_without_a_cache(
    policy_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service whose working directory was removed: load() raised FileNotFoundError from the
    compile cache's key, and without a cache called it a bug (internal-error, from display_name)."""

    def gone() -> str:
        raise FileNotFoundError(2, "No such file or directory")

    cache = tmp_path / "cache"
    with monkeypatch.context() as patched:
        patched.setattr(os, "getcwd", gone)
        for folder in (None, cache):
            assert _load(policy_file, folder).decide(FACTS).outputs == {"discount": Decimal("0.1")}
    assert not cache.exists()  # nothing to key an entry on: not cached


def test_an_entry_renamed_or_linked_to_another_policys_name_is_not_used(policy_file: Path, tmp_path: Path) -> None:
    """Two entries swapped (both the user's own, mode 0600: someone who may write the folder, or a
    careless cleanup script) gave each policy the other's decisions, silently."""
    cache = tmp_path / "cache"
    other_file = tmp_path / "other.policy"
    other_file.write_text(POLICY.replace("then discount = 0.1", "then discount = 0.2"))
    _load(policy_file, cache)
    first = set(cache.glob("*.policy-cache"))
    _load(other_file, cache)
    (mine,) = first
    (theirs,) = set(cache.glob("*.policy-cache")) - first
    swapped = tmp_path / "swap"
    mine.rename(swapped)
    theirs.rename(mine)
    swapped.rename(theirs)
    with pytest.warns(policylang.CompileCacheWarning, match="another policy or version"):
        assert _load(policy_file, cache).decide(FACTS).outputs == {"discount": Decimal("0.1")}
    with pytest.warns(policylang.CompileCacheWarning, match="another policy or version"):
        _load(other_file, cache)  # its entry (which held this policy's) written anew
    mine.unlink()
    mine.symlink_to(theirs)
    with pytest.warns(policylang.CompileCacheWarning, match="another policy or version"):
        assert _load(policy_file, cache).decide(FACTS).outputs == {"discount": Decimal("0.1")}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_in_an_entrys_place_is_ignored_without_waiting(policy_file: Path, tmp_path: Path) -> None:
    """open() of a FIFO waits for a writer: load() hung forever."""
    cache = tmp_path / "cache"
    _load(policy_file, cache)
    (entry,) = cache.glob("*.policy-cache")
    entry.unlink()
    os.mkfifo(entry, 0o600)
    with pytest.warns(policylang.CompileCacheWarning, match="not a regular file"):
        assert _load(policy_file, cache).decide(FACTS).outputs == {"discount": Decimal("0.1")}
    assert entry.is_file()  # written anew over it


@pytest.mark.parametrize("fired", [False, True])
def test_an_exception_from_the_callers_iterable_comes_out_as_raised(policy_file: Path, fired: bool) -> None:
    """A generator reading the caller's file that failed became InternalError, "a bug in policylang;
    please report it"."""
    policy = _load(policy_file, None)

    def read() -> Any:
        yield FACTS
        yield policy.facts(FACTS)
        raise Cancelled("the caller's reader failed")

    got: list[Any] = []
    with pytest.raises(Cancelled, match="the caller's reader failed"):
        got.extend(policy.decide_many(read(), fired=fired))
    assert [d.outputs for d in got] == [{"discount": Decimal("0.1")}] * 2
