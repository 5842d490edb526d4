"""anonymeter as the oracle for our reproducible univariate singling-out attack."""

import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from anonymeter.evaluators import SinglingOutEvaluator

from synthguard.attacks._anonymeter import anonymeter_view
from synthguard.attacks.singling_out import ColumnCounter, Predicate, univariate_predicates
from synthguard.audit.tables import from_frames


@pytest.mark.parametrize("which", ["adult", "population"])
def test_counts_equal_anonymeter_when_every_predicate_is_used(which, adult, pop_tables):
    if which == "adult":
        full = pd.concat(adult, ignore_index=True).iloc[:3000]
        train, control, syn = full.iloc[:1000], full.iloc[1000:2000], full.iloc[2000:]
    else:
        train, control, syn = (
            pop_tables["train"].head(800),
            pop_tables["holdout"].head(800),
            pop_tables["fresh"].head(800),
        )
    data = from_frames(train, control, syn)
    view = {r: anonymeter_view(data.table(r), data.schema).drop_duplicates() for r in ("train", "holdout", "synthetic")}
    numeric = set(data.schema.of_kind("numeric", "datetime"))
    ours = univariate_predicates(view["synthetic"], numeric)
    logging.getLogger("anonymeter").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = SinglingOutEvaluator(
            ori=view["train"], syn=view["synthetic"], control=view["holdout"], n_attacks=len(ours) + 10, seed=0
        ).evaluate(mode="univariate")
        res = ev.results()
    t, c = ColumnCounter(view["train"], numeric), ColumnCounter(view["holdout"], numeric)
    assert len(view["train"]) == len(view["holdout"])  # no size correction on anonymeter's side
    assert sum(t.count(q) == 1 for q in ours) == res.n_success
    assert sum(c.count(q) == 1 for q in ours) == res.n_control
    assert len(ours) > 50


def test_counter_semantics_match_comparisons_that_skip_missing():
    df = pd.DataFrame({"x": [1.0, 2.0, 2.0, np.nan], "y": ["a", "b", None, "b"]})
    c = ColumnCounter(df, {"x"})
    assert [c.count(Predicate("x", op, 2.0)) for op in ("==", "!=", "<", "<=", ">", ">=")] == [2, 1, 1, 3, 0, 2]
    assert c.count(Predicate("x", "isnull")) == 1 and c.count(Predicate("x", "notnull")) == 3
    assert c.count(Predicate("y", "==", "b")) == 2 and c.count(Predicate("y", "!=", "b")) == 1
