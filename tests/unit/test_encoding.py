"""The mixed-type encoder: fitted on real rows only, equal weights, small-cell suppression."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from synthguard.audit.schema import Column, Schema
from synthguard.audit.tables import from_frames
from synthguard.core.encoding import CategoricalEncoding, EncodedTables, Encoder, NumericEncoding, encode_tables


def _schema(**kinds: str) -> Schema:
    return Schema(columns=tuple(Column(name, kind) for name, kind in kinds.items()))


def _mixed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(50.0, 10.0, n)
    x[rng.random(n) < 0.1] = np.nan
    colour = rng.choice(["red", "green", "blue", "teal"], size=n, p=[0.5, 0.3, 0.18, 0.02]).astype(object)
    colour[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"x": x, "y": rng.exponential(3.0, n), "colour": colour, "size": rng.choice(["S", "M"], n)})


def _sq(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(d @ d)


def test_feature_names_order_and_slices():
    real = pd.DataFrame(
        {
            "b": ["z"] * 12 + ["a"] * 10 + ["m"] * 3,
            "a": np.r_[np.arange(24.0), np.nan],
        }
    )
    enc = Encoder.fit(real, _schema(b="categorical", a="numeric"))
    # schema order, categories sorted by value, "(rare)" last, indicator after its column
    assert enc.feature_names == ("b=a", "b=z", "b=(rare)", "a", "a (missing)")
    assert enc.column_slices["b"] == slice(0, 3)
    assert enc.column_slices["a"] == slice(3, 5)
    assert enc.width == 5
    out = enc.transform(real)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.shape == (25, 5)


def test_rare_categories_never_named_and_share_one_feature():
    counts = {"common": 40, "edge": 10, "nine": 9, "single": 1}
    values = [v for v, c in counts.items() for _ in range(c)]
    real = pd.DataFrame({"c": values})
    enc = Encoder.fit(real, _schema(c="categorical"), rare_k=10)
    assert enc.feature_names == ("c=common", "c=edge", "c=(rare)")
    assert not any("nine" in n or "single" in n for n in enc.feature_names)
    out = enc.transform(pd.DataFrame({"c": ["nine", "single", "edge"]}))
    rare = enc.feature_names.index("c=(rare)")
    assert out[0, rare] == out[1, rare] == pytest.approx(1 / math.sqrt(2))
    assert _sq(out[0], out[1]) == 0.0  # two rare categories are indistinguishable


def test_adult_feature_names_respect_rare_k(adult):
    train, holdout = adult
    data = from_frames(train, holdout, train)
    enc = encode_tables(data, rare_k=10).encoder
    real = pd.concat([data.train, data.holdout])
    for e in enc.encodings:
        if isinstance(e, CategoricalEncoding):
            counts = real[e.name].value_counts()
            assert all(counts[c] >= 10 for c in e.categories)
            assert set(counts[counts >= 10].index) == set(e.categories)
    assert 40 < enc.width < 200


def test_synthetic_never_changes_the_fit_and_new_categories_are_rare():
    train, holdout = _mixed(500, 1), _mixed(500, 2)
    syn_a = _mixed(300, 3)
    syn_b = syn_a.copy()
    syn_b["colour"] = ["purple"] * 150 + ["red"] * 150  # unseen category, and far more of it
    syn_b["x"] = syn_b["x"] * 100.0  # wildly different scale
    ea = encode_tables(from_frames(train, holdout, syn_a))
    eb = encode_tables(from_frames(train, holdout, syn_b))
    assert ea.encoder == eb.encoder
    assert np.array_equal(ea.train, eb.train)
    assert np.array_equal(ea.holdout, eb.holdout)
    assert not any("purple" in n for n in eb.encoder.feature_names)
    cols = eb.encoder.column_slices["colour"]
    names = eb.encoder.feature_names[cols]
    purple = eb.synthetic[:150, cols]
    assert np.all(purple[:, names.index("colour=(rare)")] == np.float32(1 / math.sqrt(2)))
    assert np.count_nonzero(purple) == 150


def test_fit_equals_encoder_of_encode_tables():
    train, holdout, syn = _mixed(400, 4), _mixed(400, 5), _mixed(200, 6)
    data = from_frames(train, holdout, syn)
    enc = Encoder.fit(pd.concat([data.train, data.holdout]), data.schema)
    tables = encode_tables(data)
    assert isinstance(tables, EncodedTables)
    assert tables.encoder == enc
    assert np.array_equal(tables.synthetic, enc.transform(data.synthetic))
    assert not tables.train.flags.writeable  # shared between checks: read-only


def test_categorical_mismatch_adds_exactly_one():
    real = pd.DataFrame({"c": ["a"] * 20 + ["b"] * 20 + ["z"] * 2, "x": np.arange(42.0)})
    enc = Encoder.fit(real, _schema(c="categorical", x="numeric"))
    rows = enc.transform(pd.DataFrame({"c": ["a", "b", "z", "a"], "x": [3.0, 3.0, 3.0, 3.0]}))
    assert _sq(rows[0], rows[1]) == pytest.approx(1.0, abs=1e-6)  # frequent vs frequent
    assert _sq(rows[0], rows[2]) == pytest.approx(1.0, abs=1e-6)  # frequent vs rare
    assert _sq(rows[0], rows[3]) == 0.0


def test_numeric_scale_makes_typical_squared_difference_one():
    rng = np.random.default_rng(7)
    real = pd.DataFrame({"x": rng.normal(170.0, 12.0, 20_000)})
    enc = Encoder.fit(real, _schema(x="numeric"))
    z = enc.transform(pd.DataFrame({"x": rng.normal(170.0, 12.0, 20_000)}))[:, 0].astype(np.float64)
    pairs = z[: len(z) // 2] - z[len(z) // 2 :]
    assert np.mean(pairs**2) == pytest.approx(1.0, rel=0.1)
    e = enc.encodings[0]
    assert isinstance(e, NumericEncoding) and e.scale_method == "iqr"


def test_scale_falls_back_to_sd_then_one_when_iqr_is_zero():
    rng = np.random.default_rng(8)
    gain = np.where(rng.random(2000) < 0.92, 0.0, rng.uniform(1000, 20000, 2000))
    real = pd.DataFrame({"gain": gain, "flat": np.full(2000, 3.0)})
    enc = Encoder.fit(real, _schema(gain="numeric", flat="numeric"))
    gain_enc, flat_enc = enc.encodings
    assert isinstance(gain_enc, NumericEncoding) and isinstance(flat_enc, NumericEncoding)
    assert gain_enc.scale_method == "sd"
    assert gain_enc.scale == pytest.approx(np.std(gain) * math.sqrt(2))
    assert gain_enc.centre == 0.0
    assert flat_enc.scale_method == "unit" and flat_enc.scale == pytest.approx(math.sqrt(2))
    # nothing is clipped: an extreme value stays extreme
    out = enc.transform(pd.DataFrame({"gain": [1e7], "flat": [1e3]}))
    assert out[0, 0] == pytest.approx(1e7 / gain_enc.scale, rel=1e-6)


def test_missing_indicator_only_for_columns_missing_in_real_data():
    real = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0, 5.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0]})
    enc = Encoder.fit(real, _schema(a="numeric", b="numeric"))
    assert enc.feature_names == ("a", "a (missing)", "b")
    syn = pd.DataFrame({"a": [np.nan, 4.0], "b": [np.nan, 3.0]})
    out = enc.transform(syn)
    assert out[0].tolist() == [0.0, 1.0, 0.0]  # imputed centre, indicator set; b: centre, no indicator
    assert out[1, 1] == 0.0
    assert out[1, 2] == 0.0  # 3.0 is the median of b


def test_missing_category_is_a_category():
    frequent = pd.DataFrame({"c": ["a"] * 15 + [np.nan] * 12})
    enc = Encoder.fit(frequent, _schema(c="categorical"))
    assert enc.feature_names == ("c=a", "c=(missing)", "c=(rare)")
    scarce = pd.DataFrame({"c": ["a"] * 15 + [np.nan] * 3})
    enc2 = Encoder.fit(scarce, _schema(c="categorical"))
    assert enc2.feature_names == ("c=a", "c=(rare)")
    out = enc2.transform(pd.DataFrame({"c": [np.nan, "never seen"]}))
    assert np.array_equal(out[0], out[1])


def test_datetime_columns_in_days():
    days = pd.to_datetime("2020-01-01") + pd.to_timedelta(np.arange(0, 100, dtype=np.int64), unit="D")
    real = pd.DataFrame({"d": pd.Series(days).astype("datetime64[ns]")})
    real.loc[5, "d"] = pd.NaT
    enc = Encoder.fit(real, _schema(d="datetime"))
    assert enc.feature_names == ("d", "d (missing)")
    out = enc.transform(real)
    e = enc.encodings[0]
    assert isinstance(e, NumericEncoding)
    assert (out[1, 0] - out[0, 0]) * e.scale == pytest.approx(1.0, rel=1e-5)  # one day apart
    assert out[5].tolist() == [0.0, 1.0]


def test_columns_subset_equals_full_transform_slices():
    train, holdout, syn = _mixed(300, 9), _mixed(300, 10), _mixed(100, 11)
    data = from_frames(train, holdout, syn)
    enc = encode_tables(data).encoder
    full = enc.transform(data.synthetic)
    for cols in (["colour"], ["size", "x"], ["x", "size"], ["y", "colour", "x", "size"]):
        sub = enc.transform(data.synthetic, columns=cols)
        assert sub.flags.c_contiguous and sub.dtype == np.float32
        assert np.array_equal(sub, full[:, enc.feature_index(cols)])
    one = enc.transform(data.synthetic, columns=["colour"])
    assert np.array_equal(one, full[:, enc.column_slices["colour"]])
    with pytest.raises(KeyError):
        enc.transform(data.synthetic, columns=["nope"])


def test_rare_k_must_be_positive():
    with pytest.raises(ValueError):
        Encoder.fit(pd.DataFrame({"c": ["a"]}), _schema(c="categorical"), rare_k=0)
