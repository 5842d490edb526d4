"""Loading generators by name: built-ins, package.module:attr, parameters, specs, CLI options."""

import json
import pickle
import sys
import textwrap
import uuid

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import synthguard.api
from synthguard.cli import main
from synthguard.errors import InputError
from synthguard.generators.base import (
    GeneratorSpec,
    get_generator,
    list_generators,
    load_generator_spec,
    parse_param_value,
    parse_params,
)

USER_MODULE = '''
import numpy as np
import pandas as pd


class SeededGen:
    """Resamples rows and adds noise of a given scale."""

    def __init__(self, seed=0, scale=1.0):
        self.seed, self.scale = seed, scale
        self.rng = np.random.default_rng(seed)

    def fit(self, df):
        self.df = df.reset_index(drop=True)
        return self

    def sample(self, n):
        out = self.df.sample(n, replace=True, random_state=int(self.rng.integers(2**31))).reset_index(drop=True)
        out["x"] = out["x"] + self.rng.normal(0, self.scale, n)
        return out


def make_gen(seed, scale=1.0):
    return SeededGen(seed=seed, scale=scale)


class RandomStateGen(SeededGen):
    def __init__(self, random_state=0):
        super().__init__(seed=random_state)


class Unseeded(SeededGen):
    def __init__(self):
        super().__init__(seed=123)


class Outer:
    Inner = SeededGen


class FitOnly:
    def fit(self, df):
        return self


def not_a_generator():
    return object()


NOT_CALLABLE = 3


class Broken:
    def __init__(self, seed=0):
        raise RuntimeError("no licence server")

    def fit(self, df):
        return self

    def sample(self, n):
        return None
'''


@pytest.fixture()
def user_module(tmp_path, monkeypatch):
    name = f"user_gens_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(USER_MODULE))
    (tmp_path / f"{name}_bad.py").write_text("def oops(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


@pytest.fixture()
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=50), "c": rng.choice(["a", "b"], 50).astype(object)})


# -------------------------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("False", False),
        ("none", None),
        ("NULL", None),
        ("10", 10),
        ("-3", -3),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("quantile", "quantile"),
        ('"10"', "10"),
        ("'true'", "true"),
        ("[1, 2]", [1, 2]),
        ('{"x": [0, 100]}', {"x": [0, 100]}),
        ("a=b", "a=b"),
    ],
)
def test_parameter_values_are_read_from_text(text, value):
    got = parse_param_value(text)
    assert got == value and type(got) is type(value)


def test_parameter_lists_and_their_errors():
    assert parse_params(["a=1", "b = x", "c=[1]"]) == {"a": 1, "b": " x", "c": [1]}
    assert parse_params({"a": "2", "b": [1]}) == {"a": 2, "b": [1]}
    assert parse_params({"a": "2"}, parse=False) == {"a": "2"}
    with pytest.raises(InputError, match="expects key=value, got 'epochs'"):
        parse_params(["epochs"])
    with pytest.raises(InputError, match="'a' is given twice"):
        parse_params(["a=1", "a=2"])
    with pytest.raises(InputError, match="set by the audit"):
        parse_params(["seed=3"])
    with pytest.raises(InputError, match="not a valid name"):
        parse_params(["1x=3"])
    with pytest.raises(InputError, match="not valid JSON"):
        parse_params(["domain={x: 1}"])


# -------------------------------------------------------------------------------------------- module:attr


def test_class_from_module_attr_is_seeded_and_fresh(user_module, frame):
    spec = load_generator_spec(f"{user_module}:SeededGen", ["scale=2.5"])
    assert spec.kind == "module" and spec.params == {"scale": 2.5}
    a, b = spec.make(7), spec.make(7)
    assert a is not b and a.seed == 7 and a.scale == 2.5
    pd.testing.assert_frame_equal(a.fit(frame).sample(20), b.fit(frame).sample(20))
    assert not spec.make(8).fit(frame).sample(20).equals(a.fit(frame).sample(20))
    d = spec.describe()
    assert d == {"name": f"{user_module}:SeededGen", "kind": "module", "params": {"scale": 2.5}, "seeded": True}


def test_factory_random_state_dotted_and_unseeded(user_module):
    assert load_generator_spec(f"{user_module}:make_gen", []).make(5).seed == 5
    assert load_generator_spec(f"{user_module}:RandomStateGen", []).make(5).seed == 5
    assert load_generator_spec(f"{user_module}:Outer.Inner", []).make(4).seed == 4
    spec = load_generator_spec(f"{user_module}:Unseeded", [])
    assert spec.make(5).seed == 123  # the class seeds itself
    d = spec.describe()
    assert d["seeded"] is False and "takes no seed" in d["seeding"]


def test_get_generator_accepts_module_attr(user_module):
    assert get_generator(f"{user_module}:SeededGen", seed=2, scale=0.1).scale == 0.1


def test_missing_module_is_one_line_without_traceback():
    with pytest.raises(InputError) as e:
        load_generator_spec("no_such_module_xyz.sub:Gen", [])
    msg = e.value.one_line()
    assert msg.startswith("cannot import module 'no_such_module_xyz.sub': No module named 'no_such_module_xyz'")
    assert "\n" not in msg and "Traceback" not in msg


def test_module_that_fails_to_import(user_module):
    with pytest.raises(InputError, match=r"cannot import module '.*_bad': SyntaxError"):
        load_generator_spec(f"{user_module}_bad:Gen", [])


def test_missing_attribute_and_not_callable(user_module):
    with pytest.raises(InputError, match=f"module '{user_module}' has no attribute 'Nope'"):
        load_generator_spec(f"{user_module}:Nope", [])
    with pytest.raises(InputError, match=r"has no attribute 'Outer\.Missing'"):
        load_generator_spec(f"{user_module}:Outer.Missing", [])
    with pytest.raises(InputError, match="is a int, not a class or a factory"):
        load_generator_spec(f"{user_module}:NOT_CALLABLE", [])


def test_objects_without_fit_or_sample(user_module):
    with pytest.raises(InputError, match="class FitOnly has no sample method"):
        load_generator_spec(f"{user_module}:FitOnly", [])
    with pytest.raises(InputError, match=r"made a object without fit and sample\(\)"):
        load_generator_spec(f"{user_module}:not_a_generator", [])


def test_bad_parameters_and_broken_constructors(user_module):
    with pytest.raises(InputError, match="does not accept parameters epochs"):
        load_generator_spec(f"{user_module}:SeededGen", ["epochs=3"])
    with pytest.raises(InputError, match="could not be constructed: RuntimeError: no licence server"):
        load_generator_spec(f"{user_module}:Broken", [])


def test_unknown_builtin_and_pickle_files_are_refused():
    with pytest.raises(InputError, match=r"unknown generator 'gan': use one of .*cart"):
        load_generator_spec("gan", [])
    # a pickled model is never loaded: a file name is just an unknown generator
    with pytest.raises(InputError, match=r"unknown generator 'model\.pkl'"):
        load_generator_spec("model.pkl", [])
    with pytest.raises(InputError, match="needs a name"):
        load_generator_spec("  ", [])


def test_builtin_parameter_errors():
    with pytest.raises(InputError, match="'cart' does not accept parameters epochs"):
        load_generator_spec("cart", ["epochs=3"])
    with pytest.raises(InputError, match="'dp-histogram': bad parameter: epsilon must be"):
        load_generator_spec("dp-histogram", ["epsilon=-1"])


@pytest.mark.parametrize("name", sorted(list_generators()))
def test_every_builtin_loads_and_describes(name):
    spec = load_generator_spec(name, [])
    d = spec.describe()
    assert d["kind"] == "builtin" and d["seeded"] is True
    json.dumps(d)


def test_spec_pickles_small_and_makes_the_same_generator(user_module, frame):
    spec = load_generator_spec("cart", ["min_samples_leaf=10"])
    blob = pickle.dumps(spec)
    assert len(blob) < 400
    again = pickle.loads(blob)
    assert again == spec and hash(again) == hash(spec)
    pd.testing.assert_frame_equal(spec.make(3).fit(frame).sample(30), again.make(3).fit(frame).sample(30))
    user = load_generator_spec(f"{user_module}:SeededGen", ["scale=0.5"])
    assert pickle.loads(pickle.dumps(user)).make(1).scale == 0.5


def test_describe_is_json_safe_and_deterministic():
    spec = GeneratorSpec("dp-histogram", {"domain": {"x": (0, 1)}, "epsilon": np.float64(0.5), "obj": object()})
    d = spec.describe()
    assert d["params"] == {"domain": {"x": [0, 1]}, "epsilon": 0.5, "obj": "<object>"}
    assert json.dumps(d) == json.dumps(spec.describe())


# -------------------------------------------------------------------------------------------- API and CLI


def test_api_audit_rejects_params_without_generator(adult):
    train, holdout = adult
    with pytest.raises(InputError, match="generator_params given without a generator"):
        synthguard.api.audit(train, holdout, train, generator_params={"a": 1})
    with pytest.raises(InputError, match="unknown generator"):
        synthguard.api.audit(train, holdout, train, generator="gan")


def _capture(monkeypatch, target):
    seen = {}

    def fake(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        raise InputError("captured")

    monkeypatch.setattr(synthguard.api, target, fake)
    return seen


def test_cli_audit_passes_a_checked_spec(monkeypatch, small_files, user_module):
    seen = _capture(monkeypatch, "audit")
    args = ["audit", *(f"--{k}={v}" for k, v in small_files.items())]
    res = CliRunner().invoke(
        main,
        [*args, "--generator", f"{user_module}:SeededGen", "--generator-param", "scale=0.25"],
    )
    assert res.exit_code == 2 and "captured" in res.output
    spec = seen["kwargs"]["generator"]
    assert isinstance(spec, GeneratorSpec) and spec.params == {"scale": 0.25}
    res = CliRunner().invoke(main, [*args, "--generator", "cart", "--generator-param", "min_samples_leaf=7"])
    assert seen["kwargs"]["generator"] == GeneratorSpec("cart", {"min_samples_leaf": 7})
    res = CliRunner().invoke(main, args)
    assert "generator" not in seen["kwargs"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--generator", "nosuchmodule_q:G"], "error: cannot import module 'nosuchmodule_q'"),
        (["--generator", "gan"], "error: unknown generator 'gan'"),
        (["--generator-param", "a=1"], "error: --generator-param needs --generator"),
        (["--generator", "cart", "--generator-param", "depth"], "expects key=value"),
    ],
)
def test_cli_generator_errors_exit_2_with_one_line(small_files, extra, message):
    args = ["audit", *(f"--{k}={v}" for k, v in small_files.items()), *extra]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_cli_demo_accepts_builtins_and_module_attr(monkeypatch, user_module):
    seen = _capture(monkeypatch, "demo")
    res = CliRunner().invoke(main, ["demo", "--generator", "bayesian-network", "--generator-param", "degree=1"])
    assert res.exit_code == 2 and seen["args"][0] == GeneratorSpec("bayesian-network", {"degree": 1})
    CliRunner().invoke(main, ["demo", "--generator", f"{user_module}:make_gen"])
    assert seen["args"][0].name == f"{user_module}:make_gen"
    help_text = CliRunner().invoke(main, ["demo", "--help"]).output
    for name in ("cart", "gaussian-copula", "dp-histogram"):
        assert name in help_text


def test_cli_generators_lists_every_builtin_on_one_line():
    res = CliRunner().invoke(main, ["generators"])
    assert res.exit_code == 0
    lines = res.output.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == list(list_generators())
    expected = {"independent", "noisy-copy", "bootstrap", "gaussian-copula", "cart", "bayesian-network", "dp-histogram"}
    assert set(list_generators()) == expected
