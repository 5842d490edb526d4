"""anonymeter as the oracle for synthguard's reproducible singling-out, linkability and inference attacks."""

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from anonymeter.evaluators import SinglingOutEvaluator
from anonymeter.evaluators.linkability_evaluator import LinkabilityIndexes
from anonymeter.neighbors.mixed_types_kneighbors import MixedTypeKNeighbors, gower_distance
from anonymeter.preprocessing.transformations import mixed_types_transform

from synthguard.attacks._anonymeter import anonymeter_view, nearest_synthetic
from synthguard.attacks.linkage import count_links
from synthguard.attacks.singling_out import Predicate, PredicateCounter, univariate_queries
from synthguard.audit.tables import from_frames
from synthguard.core.gower import gower_knn, gower_tables
from synthguard.core.stats import wilson

logging.getLogger("anonymeter").setLevel(logging.ERROR)


def _views(train, control, syn):
    data = from_frames(train, control, syn)
    return data, {
        r: anonymeter_view(data.table(r), data.schema).drop_duplicates().reset_index(drop=True)
        for r in ("train", "holdout", "synthetic")
    }


@pytest.mark.parametrize("which", ["adult", "population"])
def test_univariate_counts_equal_anonymeter_when_every_predicate_is_used(which, adult, pop_tables):
    if which == "adult":
        full = pd.concat(adult, ignore_index=True).iloc[:3000]
        train, control, syn = full.iloc[:1000], full.iloc[1000:2000], full.iloc[2000:]
    else:
        train, control, syn = (pop_tables[k].head(800) for k in ("train", "holdout", "fresh"))
    data, view = _views(train, control, syn)
    numeric = set(data.schema.of_kind("numeric", "datetime"))
    counter = PredicateCounter(
        {"synthetic": view["synthetic"], "train": view["train"], "control": view["holdout"]}, numeric
    )
    ours = univariate_queries(view["synthetic"], numeric, counter)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = SinglingOutEvaluator(
            ori=view["train"], syn=view["synthetic"], control=view["holdout"], n_attacks=len(ours) + 10, seed=0
        ).evaluate(mode="univariate")
        res = ev.results()
    assert len(view["train"]) == len(view["holdout"])  # no size correction on anonymeter's side
    assert int((counter.count("train", ours) == 1).sum()) == res.n_success
    assert int((counter.count("control", ours) == 1).sum()) == res.n_control
    assert len(ours) > 50


def test_multivariate_rates_agree_with_anonymeter(adult):
    """Same method, different random draws: the success rates must agree within their intervals."""
    from synthguard.audit.runner import Settings, run_audit, select_checks

    full = pd.concat(adult, ignore_index=True)
    train, control, syn = full.iloc[:3000], full.iloc[3000:6000], full.iloc[6000:9000]
    data, view = _views(train, control, syn)
    r = run_audit(
        data,
        seed=0,
        checks=select_checks(["singling_out.multivariate"]),
        settings=Settings(n_attacks=400, singling_out_columns=3),
    ).checks[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = SinglingOutEvaluator(
            ori=view["train"], syn=view["synthetic"], control=view["holdout"], n_attacks=400, n_cols=3, seed=1
        ).evaluate(mode="multivariate")
        res = ev.results()
    for ours, theirs, n_theirs in (
        (r.details["attack"], res.n_success, res.n_attacks_ori),
        (r.details["control"], res.n_control, res.n_attacks_control),
    ):
        lo, hi = wilson(round(theirs), n_theirs)
        assert ours["ci_low"] <= hi and lo <= ours["ci_high"], (ours, theirs)


def _anonymeter_neighbours(targets, syn, cols, k):
    nn = MixedTypeKNeighbors(n_neighbors=k, n_jobs=1).fit(syn[cols])
    return np.asarray(nn.kneighbors(targets[cols], return_distance=False))


def _anonymeter_distances(targets, syn, cols, idx):
    """anonymeter's own distance between each target and the given synthetic rows."""
    num = [c for c in cols if pd.api.types.is_numeric_dtype(syn[c])]
    cat = [c for c in cols if c not in num]
    s, q = mixed_types_transform(syn[cols], targets[cols], num_cols=num, cat_cols=cat)
    order = num + cat
    s, q = s[order].to_numpy(dtype=float), q[order].to_numpy(dtype=float)
    return np.array([[gower_distance(q[i], s[j], len(num)) for j in row] for i, row in enumerate(idx)])


@pytest.mark.parametrize("which", ["population", "adult"])
def test_inference_neighbours_equal_anonymeter_up_to_ties(which, adult, pop_tables):
    if which == "adult":
        full = pd.concat(adult, ignore_index=True).dropna()
        train, control, syn = full.iloc[:1000], full.iloc[1000:2000], full.iloc[2000:6000]
        aux = ["age", "sex", "race", "native_country", "marital_status", "hours_per_week"]
    else:
        train, control, syn = (pop_tables[k].head(1500).dropna() for k in ("train", "holdout", "fresh"))
        aux = ["age", "sex", "postcode", "bmi"]
    data = from_frames(train, control, syn)
    targets = anonymeter_view(data.train, data.schema).head(300)
    s = anonymeter_view(data.synthetic, data.schema)
    ours = nearest_synthetic(targets, s, aux, data.schema, 1)[:, 0]
    theirs = _anonymeter_neighbours(targets, s, aux, 1)[:, 0]
    d_ours = _anonymeter_distances(targets, s, aux, ours[:, None])[:, 0]
    d_theirs = _anonymeter_distances(targets, s, aux, theirs[:, None])[:, 0]
    # the same neighbour, or another one at exactly anonymeter's own distance (a tie)
    np.testing.assert_allclose(d_ours, d_theirs, rtol=0, atol=1e-9)
    # where the nearest synthetic record is unique, both pick the same one
    num = [c for c in aux if data.schema.kind(c) == "numeric"]
    d2, _ = gower_knn(gower_tables(targets, s, num, [c for c in aux if c not in num]), 2)
    unique = d2[:, 1] > d2[:, 0] + 1e-12
    assert unique.sum() > 50
    assert (ours == theirs)[unique].all()


def test_linkability_links_equal_anonymeter_without_ties(pop_tables):
    train, control, syn = (pop_tables[k].head(1500).dropna() for k in ("train", "holdout", "fresh"))
    data = from_frames(train, control, syn)
    targets = anonymeter_view(data.train, data.schema).head(400)
    s = anonymeter_view(data.synthetic, data.schema)
    first, second = ["age", "sex", "postcode", "bmi"], ["diagnosis", "income"]
    for k in (1, 5):
        ours = count_links(
            nearest_synthetic(targets, s, first, data.schema, k), nearest_synthetic(targets, s, second, data.schema, k)
        )
        theirs = LinkabilityIndexes(
            _anonymeter_neighbours(targets, s, first, k), _anonymeter_neighbours(targets, s, second, k)
        ).count_links(k)
        assert abs(ours - theirs) <= 2, (k, ours, theirs)


def test_counter_semantics_match_comparisons_that_skip_missing():
    df = pd.DataFrame({"x": [1.0, 2.0, 2.0, np.nan], "y": ["a", "b", None, "b"]})
    c = PredicateCounter({"t": df}, {"x"})
    ops = ("==", "!=", "<", "<=", ">", ">=")
    assert list(c.count("t", [(Predicate("x", op, 2.0),) for op in ops], stop=10)) == [2, 1, 1, 3, 0, 2]
    assert list(c.count("t", [(Predicate("x", "isnull"),), (Predicate("x", "notnull"),)], stop=10)) == [1, 3]
    assert list(c.count("t", [(Predicate("y", "==", "b"),), (Predicate("y", "!=", "b"),)], stop=10)) == [2, 1]
    both = (Predicate("x", ">=", 2.0), Predicate("y", "==", "b"))
    assert list(c.count("t", [both], stop=10)) == [1]
    assert list(c.count("t", [(Predicate("x", "<=", 5.0),)], stop=2)) == [2]  # stops early
