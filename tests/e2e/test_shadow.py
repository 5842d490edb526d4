"""Generator in the loop: shadow-model attacks, their analytic optimum, ε calibration, Dask, caching."""

import numpy as np
import pandas as pd
import pytest

from synthguard.audit import execution
from synthguard.audit.runner import Settings, run_audit, select_checks
from synthguard.audit.tables import from_frames
from synthguard.generators.base import GeneratorSpec, get_generator
from tests.helpers import ROLES, population

SHADOW = ["membership.shadow"]


NUMERIC_SECRET = {**ROLES, "sensitive": ["diagnosis", "income"]}


def _data(n_train=300, n_holdout=600, generator="bootstrap", seed=5, roles=ROLES):
    train, holdout = population(n_train, 1), population(n_holdout, 2)
    typed = from_frames(train, holdout, train, **roles)
    synthetic = get_generator(generator, seed=seed).fit(typed.train).sample(n_train)
    return from_frames(train, holdout, synthetic, **roles)


@pytest.fixture(scope="module")
def bootstrap_result():
    return run_audit(
        _data(roles=NUMERIC_SECRET),
        seed=0,
        checks=select_checks(["membership.shadow", "attribute.shadow"]),
        settings=Settings(shadow_fits=64, shadow_targets=10, n_jobs=2),
        generator=GeneratorSpec("bootstrap"),
    )


def test_bootstrap_generator_reaches_the_analytic_optimum(bootstrap_result):
    """m rows drawn with replacement from n: a member shows up with probability q = 1 − (1 − 1/n)^m,
    a non-member never, so TPR at FPR 0 ≈ q and AUC ≈ ½ + q/2 (both ≈ 0.63 and 0.82 for m = n)."""
    c = bootstrap_result.check("membership.shadow")
    tm = c.details["threat_model"]
    n, m = tm["training_size"], tm["synthetic_size"]
    q = 1 - (1 - 1 / n) ** m
    per = [t for t in c.details["per_target"] if t["table"] == "train"]
    auc = np.array([t["auc"] for t in per])
    tpr0 = np.array([t["tpr_at_fpr0"] for t in per])
    # sampling error: 64 fits per target (about 32 in, 32 out), 10 targets
    assert abs(auc.mean() - (0.5 + q / 2)) < 3 * auc.std(ddof=1) / np.sqrt(len(auc)) + 0.03
    assert abs(tpr0.mean() - q) < 3 * tpr0.std(ddof=1) / np.sqrt(len(tpr0)) + 0.05
    assert c.estimate.covers(0.5 + q / 2)
    # read on the release (which copies about q of the training rows), members stand out
    assert bootstrap_result.check("membership.shadow_release").estimate.value > 0.75


def test_shadow_attribute_inference_reads_planted_values_back(bootstrap_result):
    c = bootstrap_result.check("attribute.shadow[secret=diagnosis]")
    q = 1 - (1 - 1 / 300) ** 300
    # a copy of the target (probability q) shows its planted value; otherwise only guessing is left
    assert c.estimate.ci_low > 0.4 and c.estimate.ci_high > q - 0.1


def test_shadow_attribute_inference_reads_a_numeric_secret_back_by_bin(bootstrap_result):
    c = bootstrap_result.check("attribute.shadow[secret=income]")
    assert c.details["secret_kind"] == "numeric" and c.details["values"] == 5
    assert c.estimate.ci_low > 0.4


def test_shadow_attribute_inference_reads_nothing_from_an_independent_release():
    r = run_audit(
        _data(200, 400, generator="independent", roles=NUMERIC_SECRET),
        seed=0,
        checks=select_checks(["attribute.shadow"]),
        generator=GeneratorSpec("independent"),
        settings=Settings(shadow_fits=32, shadow_targets=6),
    )
    for secret in ("diagnosis", "income"):
        c = r.check(f"attribute.shadow[secret={secret}]")
        assert c.estimate.ci_low == 0.0 and c.estimate.value < 0.15
        # no anti-learning either: the accuracy interval covers guessing
        assert c.details["accuracy_ci_low"] <= c.details["chance"] <= c.details["accuracy_ci_high"]


def test_planted_secrets_are_balanced_per_target_within_each_fold():
    from synthguard.attacks.shadow import _balanced_draws

    rng = np.random.default_rng(0)
    drawn = _balanced_draws(rng, n_fits=34, n_targets=7, k=5, folds=4)
    assert drawn.shape == (34, 7) and drawn.min() >= 0 and drawn.max() <= 4
    for f in range(4):
        block = drawn[np.arange(34) % 4 == f]
        for t in range(7):
            counts = np.bincount(block[:, t], minlength=5)
            assert counts.max() - counts.min() <= 1


def test_dp_histogram_epsilon_lower_bounds_never_exceed_its_epsilon():
    train, holdout = population(300, 3), population(600, 4)
    cols = ["age", "sex", "diagnosis"]
    roles = {"quasi_identifiers": ["age", "sex"], "sensitive": ["diagnosis"]}
    domain = {
        "age": (18, 91),
        "sex": ["F", "M"],
        "diagnosis": ["J45", "E11", "I10", "F32", "M54", "K21", "G43", "N39", "L40", "C50"],
    }
    spec = GeneratorSpec("dp-histogram", {"epsilon": 1.0, "domain": domain, "bins": 8})
    typed = from_frames(train[cols], holdout[cols], train[cols], **roles)
    synthetic = spec.make(0).fit(typed.train).sample(300)
    data = from_frames(train[cols], holdout[cols], synthetic, **roles)
    r = run_audit(
        data,
        seed=0,
        checks=select_checks(SHADOW),
        generator=spec,
        settings=Settings(shadow_fits=64, shadow_targets=10, n_jobs=2),
    )
    c = r.check("membership.shadow")
    assert all(t["epsilon_lb"] <= 1.0 for t in c.details["per_target"])
    assert c.details["worst_epsilon_lb"] <= 1.0


def test_dask_cluster_gives_exactly_the_local_result():
    # not importorskip: the `test` extra installs dask[distributed], and this test must run in CI
    import distributed

    data = _data(200, 400, generator="independent")
    spec = GeneratorSpec("independent")
    settings = {"shadow_fits": 16, "shadow_targets": 4}
    local = run_audit(data, seed=3, checks=select_checks(SHADOW), generator=spec, settings=Settings(**settings))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_audit(
            data,
            seed=3,
            checks=select_checks(SHADOW),
            generator=spec,
            settings=Settings(**settings, backend="dask", scheduler=cluster.scheduler_address),
        )
    assert [c.to_dict() for c in remote.checks] == [c.to_dict() for c in local.checks]


def test_cached_fits_are_reused_and_give_the_same_result(tmp_path, monkeypatch):
    data = _data(150, 300, generator="independent")
    spec = GeneratorSpec("independent")
    s = Settings(shadow_fits=8, shadow_targets=3, cache_dir=str(tmp_path / "cache"))
    first = run_audit(data, seed=1, checks=select_checks(SHADOW), generator=spec, settings=s)
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 8

    def refuse(*args, **kwargs):
        raise AssertionError("a cached fit was recomputed")

    monkeypatch.setattr(execution, "fit_and_sample", refuse)
    again = run_audit(data, seed=1, checks=select_checks(SHADOW), generator=spec, settings=s)
    assert [c.to_dict() for c in again.checks] == [c.to_dict() for c in first.checks]


def test_small_auxiliary_data_shrink_the_shadows_and_say_so():
    data = _data(400, 200, generator="independent")
    r = run_audit(
        data,
        seed=0,
        checks=select_checks(SHADOW),
        generator=GeneratorSpec("independent"),
        settings=Settings(shadow_fits=8, shadow_targets=3),
    )
    tm = r.check("membership.shadow").details["threat_model"]
    assert tm["reduced"] and tm["training_size"] < tm["wanted_training_size"] == 400
    assert "smaller" in tm["description"]


def test_shadow_checks_are_skipped_without_a_generator():
    r = run_audit(_data(150, 300, generator="independent"), seed=0, checks=select_checks(SHADOW))
    assert r.checks[0].status == "skipped" and "generator" in r.checks[0].warnings[0]


def test_a_generator_that_breaks_its_output_makes_the_check_error_not_the_audit():
    r = run_audit(
        _data(150, 300, generator="independent"),
        seed=0,
        checks=select_checks(["membership.shadow", "distance.exact_match"]),
        generator=GeneratorSpec("tests.e2e.test_shadow:Broken"),
        settings=Settings(shadow_fits=8, shadow_targets=2),
    )
    assert r.check("membership.shadow").status == "error"
    assert r.check("distance.exact_match").status == "ok"


class Broken:
    """A generator whose output lacks a column."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, data: pd.DataFrame) -> "Broken":
        self.columns = list(data.columns)[1:]
        return self

    def sample(self, n: int) -> pd.DataFrame:
        return pd.DataFrame({c: ["x"] * n for c in self.columns})


class Copy:
    """A generator that outputs every training row (cycled up to n): the most a release can leak."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, data: pd.DataFrame) -> "Copy":
        self.data = data.reset_index(drop=True)
        return self

    def sample(self, n: int) -> pd.DataFrame:
        return self.data.iloc[np.arange(n) % len(self.data)].reset_index(drop=True)


def test_groundhog_dataset_features_can_be_added():
    data = _data(150, 300, generator="independent")
    spec = GeneratorSpec("independent")
    runs = {
        mode: run_audit(
            data,
            seed=2,
            checks=select_checks(SHADOW),
            generator=spec,
            settings=Settings(shadow_fits=8, shadow_targets=3, shadow_features=mode),
        )
        for mode in ("local", "groundhog")
    }
    for r in runs.values():
        assert r.check("membership.shadow").status != "error"
    assert runs["groundhog"].settings["shadow_features"] == "groundhog"


def test_shadow_features_setting_is_checked():
    from synthguard.audit import config
    from synthguard.errors import InputError

    with pytest.raises(InputError, match="shadow_features"):
        config.load({"shadow_features": "everything"}, environ={})


def test_fit_progress_counts_every_fit_on_a_terminal():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    bar = execution._Progress(4, quiet=False, stream=term)
    for _ in range(4):
        bar.step()
    assert term.getvalue().count("generator fits") == 4 and term.getvalue().endswith("4/4\n")
    log = io.StringIO()
    silent = execution._Progress(4, quiet=False, stream=log)
    silent.step()
    assert log.getvalue() == ""


def test_a_generator_that_copies_its_input_reaches_the_epsilon_ceiling_and_fails():
    """A generator that outputs its whole training set: every target is perfectly separated, so the
    bound for the chosen target equals the most 64 fits can show, which is above the open policy's
    ε threshold of 1 (the rule can fire at the default number of fits)."""
    from synthguard.audit.policy import evaluate, load_policy
    from synthguard.core.stats import epsilon_ceiling

    spec = GeneratorSpec("tests.e2e.test_shadow:Copy")
    train, holdout = population(150, 1), population(300, 2)
    synthetic = population(200, 3)  # larger than any shadow set, so a copy holds every row of it
    r = run_audit(
        from_frames(train, holdout, synthetic, **ROLES),
        seed=0,
        checks=select_checks(SHADOW),
        generator=spec,
        settings=Settings(shadow_fits=64, shadow_targets=4),
    )
    d = r.check("membership.shadow").details
    assert d["worst_epsilon_lb"] == pytest.approx(d["epsilon_lb_ceiling"])
    assert d["epsilon_lb_ceiling"] > 1.0
    assert epsilon_ceiling(32, 32) > epsilon_ceiling(16, 16) > 1.0
    broken = evaluate(r, load_policy("open")).policy["broken_rules"]
    assert any(b["rule"].startswith("details.worst_epsilon_lb") for b in broken)
