"""SDV and synthcity adapters, run against small fake libraries injected into ``sys.modules``."""

import sys
import types
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from synthguard.errors import InputError
from synthguard.generators import adapters
from synthguard.generators.base import load_generator_spec
from tests.gen_helpers import assert_same_kinds, assert_whole_where_whole, mixed_table

FIXED_RNG_SEED = 73251  # what the fake, like SDV, samples with when no random state was set


class FakeMetadata:
    """Records the dictionary it was loaded from."""

    loaded: ClassVar[list] = []

    def __init__(self, d=None):
        self.d = d

    @classmethod
    def load_from_dict(cls, d):
        cls.loaded.append(d)
        return cls(d)


class FakeSynthesizer:
    """Bootstraps rows with its own random state; returns library-typed columns in another order."""

    instances: ClassVar[list] = []

    def __init__(self, metadata, enforce_min_max_values=True, epochs=300):
        self.metadata, self.epochs = metadata, epochs
        self.random_state = None
        self.fit_draw = None
        FakeSynthesizer.instances.append(self)

    def fit(self, data):
        self.data = data.reset_index(drop=True)
        self.fit_draw = float(np.random.random())  # a library that trains with the global generator

    def _set_random_state(self, seed):
        self.random_state = np.random.RandomState(seed)

    def sample(self, num_rows):
        rs = self.random_state or np.random.RandomState(FIXED_RNG_SEED)
        out = self.data.iloc[rs.randint(0, len(self.data), num_rows)].reset_index(drop=True)
        out = out[list(reversed(out.columns))]
        for c in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[c]):
                out[c] = out[c].dt.strftime("%Y-%m-%d")  # libraries may hand back text dates
            elif out[c].dtype == object:
                out[c] = out[c].astype("category")
        return out


class NotASynthesizer:
    pass


def install_fake_sdv(monkeypatch, *, new_metadata=True):
    FakeMetadata.loaded = []
    FakeSynthesizer.instances = []
    sdv = types.ModuleType("sdv")
    metadata = types.ModuleType("sdv.metadata")
    if new_metadata:
        metadata.Metadata = FakeMetadata
    else:
        metadata.SingleTableMetadata = FakeMetadata
    single = types.ModuleType("sdv.single_table")
    single.FakeSynthesizer = FakeSynthesizer
    single.GaussianCopulaSynthesizer = FakeSynthesizer
    single.helper = 3
    monkeypatch.setitem(sys.modules, "sdv", sdv)
    monkeypatch.setitem(sys.modules, "sdv.metadata", metadata)
    monkeypatch.setitem(sys.modules, "sdv.single_table", single)


class FakeLoader:
    def __init__(self, df):
        self.df = df

    def dataframe(self):
        return self.df


class FakePlugin:
    made: ClassVar[list] = []

    def __init__(self, random_state=0, n_iter=10):
        self.random_state, self.n_iter = random_state, n_iter
        FakePlugin.made.append(self)

    def fit(self, df):
        self.df = df.reset_index(drop=True)
        return self

    def generate(self, count):
        rs = np.random.RandomState(self.random_state)
        out = self.df.iloc[rs.randint(0, len(self.df), count)].reset_index(drop=True)
        return FakeLoader(out)


class FakePlugins:
    built = 0

    def __init__(self):
        FakePlugins.built += 1

    def list(self):
        return ["fakeplugin", "ctgan"]

    def get(self, name, **kwargs):
        return FakePlugin(**kwargs)


def install_fake_synthcity(monkeypatch):
    FakePlugin.made = []
    FakePlugins.built = 0
    sc = types.ModuleType("synthcity")
    plugins = types.ModuleType("synthcity.plugins")
    plugins.Plugins = FakePlugins
    monkeypatch.setitem(sys.modules, "synthcity", sc)
    monkeypatch.setitem(sys.modules, "synthcity.plugins", plugins)


@pytest.fixture(scope="module")
def table():
    return mixed_table(300, seed=4)


# ------------------------------------------------------------------------------------------------ SDV


def test_sdv_adapter_fits_samples_and_restores_kinds(monkeypatch, table):
    install_fake_sdv(monkeypatch)
    spec = load_generator_spec("sdv:FakeSynthesizer", ["epochs=5"])
    assert spec.kind == "adapter"
    d = spec.describe()
    assert d["seeded"] is True and "SDV sampling state" in d["seeding"]
    gen = spec.make(3).fit(table)
    syn = gen.sample(120)
    assert len(syn) == 120
    assert_same_kinds(syn, table)
    assert_whole_where_whole(syn, table)
    model = FakeSynthesizer.instances[-1]
    assert model.epochs == 5
    # metadata written from synthguard's kinds, never auto-detected
    meta = FakeMetadata.loaded[-1]
    cols = meta["tables"]["table"]["columns"]
    assert cols["x"] == {"sdtype": "numerical"}
    assert cols["grp"] == {"sdtype": "categorical"}
    assert cols["when"] == {"sdtype": "datetime"}
    assert list(cols) == list(table.columns)
    assert gen.sample(0).shape == (0, table.shape[1])


def test_sdv_adapter_seeding(monkeypatch, table):
    install_fake_sdv(monkeypatch)
    spec = load_generator_spec("sdv:GaussianCopulaSynthesizer", [])
    state = np.random.get_state()[1].copy()
    a = spec.make(1).fit(table)
    b = spec.make(1).fit(table)
    c = spec.make(2).fit(table)
    # the global generator is seeded around fit, then restored
    assert FakeSynthesizer.instances[-3].fit_draw == FakeSynthesizer.instances[-2].fit_draw
    assert FakeSynthesizer.instances[-3].fit_draw != FakeSynthesizer.instances[-1].fit_draw
    assert np.array_equal(np.random.get_state()[1], state)
    sa, sb, sc = a.sample(50), b.sample(50), c.sample(50)
    pd.testing.assert_frame_equal(sa, sb)
    assert not sa.equals(sc)  # without setting the random state SDV would return the same rows
    assert not a.sample(50).equals(sa)  # a second call draws new rows


def test_sdv_single_table_metadata_fallback(monkeypatch, table):
    install_fake_sdv(monkeypatch, new_metadata=False)
    load_generator_spec("sdv:FakeSynthesizer", []).make(0).fit(table)
    meta = FakeMetadata.loaded[-1]
    assert meta["METADATA_SPEC_VERSION"] == "SINGLE_TABLE_V1"
    assert meta["columns"]["cat"] == {"sdtype": "categorical"}


def test_sdv_errors(monkeypatch):
    install_fake_sdv(monkeypatch)
    with pytest.raises(InputError, match="sdv has no single-table synthesizer 'CTGAN': use one of FakeSynthesizer"):
        load_generator_spec("sdv:CTGAN", [])
    with pytest.raises(InputError, match="has no single-table synthesizer 'helper'"):
        load_generator_spec("sdv:helper", [])
    with pytest.raises(InputError, match="does not accept parameters layers"):
        load_generator_spec("sdv:FakeSynthesizer", ["layers=3"])
    with pytest.raises(InputError, match="name the sdv synthesizer after the colon"):
        load_generator_spec("sdv:", [])


def test_missing_extras_name_the_install_command(monkeypatch):
    for lib in ("sdv", "sdv.metadata", "sdv.single_table", "synthcity", "synthcity.plugins"):
        monkeypatch.setitem(sys.modules, lib, None)  # import fails as if not installed
    with pytest.raises(InputError, match=r"the 'sdv' adapter needs `pip install synthguard\[sdv\]`"):
        load_generator_spec("sdv:CTGANSynthesizer", [])
    with pytest.raises(InputError, match=r"the 'synthcity' adapter needs `pip install synthguard\[synthcity\]`"):
        load_generator_spec("synthcity:ctgan", ["n_iter=5"])


# ------------------------------------------------------------------------------------------------ synthcity


def test_synthcity_adapter(monkeypatch, table):
    install_fake_synthcity(monkeypatch)
    spec = load_generator_spec("synthcity:fakeplugin", ["n_iter=5"])
    gen = spec.make(11).fit(table)
    plugin = FakePlugin.made[-1]
    assert plugin.random_state == 11 and plugin.n_iter == 5
    syn = gen.sample(80)
    assert len(syn) == 80
    assert_same_kinds(syn, table)
    pd.testing.assert_frame_equal(syn, spec.make(11).fit(table).sample(80))
    assert not syn.equals(spec.make(12).fit(table).sample(80))
    assert gen.sample(0).shape == (0, table.shape[1])
    # the plugin registry is built once per process, not once per generator
    assert FakePlugins.built == 1
    # an explicit random_state wins over the audit seed
    load_generator_spec("synthcity:fakeplugin", ["random_state=99"]).make(1).fit(table)
    assert FakePlugin.made[-1].random_state == 99


def test_synthcity_unknown_plugin(monkeypatch):
    install_fake_synthcity(monkeypatch)
    with pytest.raises(InputError, match="synthcity has no plugin 'gan': use one of ctgan, fakeplugin"):
        load_generator_spec("synthcity:gan", [])


def test_retype_complains_about_a_dropped_column(table):
    out = table.drop(columns=["x"])
    with pytest.raises(RuntimeError, match="returned no column 'x'"):
        adapters._retype(out, table, "sdv:Fake")
