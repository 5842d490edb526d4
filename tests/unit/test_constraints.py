"""Schema-file constraints: parsing, clear errors, and the validity check that counts broken rules."""

from pathlib import Path

import pytest

from synthguard.audit.runner import run_audit, select_checks
from synthguard.audit.schema import parse_constraint, read_schema_file
from synthguard.audit.tables import from_frames, load
from synthguard.errors import InputError
from tests.helpers import population, write_csv

RULES = """
constraints = [
    'age < 30 -> diagnosis != "C50"',
    "bmi > 0",
]

[[constraints]]
rule = '`sex` == "F" and age >= 18 -> income > 0'
"""


def _schema(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "schema.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_rules_are_read_from_a_list_and_from_tables(tmp_path):
    # TOML puts a top-level array and an array of tables under one key only once
    sf = read_schema_file(_schema(tmp_path, RULES.split("[[constraints]]")[0]))
    assert [c.text for c in sf.constraints] == ['age < 30 -> diagnosis != "C50"', "bmi > 0"]
    assert sf.constraints[1].premise == ()
    sf2 = read_schema_file(_schema(tmp_path, "[[constraints]]" + RULES.split("[[constraints]]")[1]))
    (rule,) = sf2.constraints
    assert [c.column for c in rule.premise] == ["sex", "age"] and rule.conclusion[0].value == 0.0


def test_bad_syntax_names_the_file_and_the_rule_number_not_the_value(tmp_path):
    p = _schema(tmp_path, "constraints = ['age < 15 -> sex == \"F\"', 'age << SECRETVALUE']\n")
    with pytest.raises(InputError) as e:
        read_schema_file(p)
    msg = str(e.value)
    assert str(p) in msg and "constraint 2" in msg and "SECRETVALUE" not in msg


def test_unknown_column_and_type_mismatch_fail_at_load(tmp_path, small_files):
    p = _schema(tmp_path, "constraints = ['age < 15 -> nonexistent == \"x\"', 'sex > 3', 'age == \"old\"']\n")
    with pytest.raises(InputError) as e:
        load(small_files["train"], small_files["holdout"], small_files["synthetic"], schema_file=p)
    msg = str(e.value)
    assert "constraint 1: column 'nonexistent' is not in the data" in msg
    assert "constraint 2: categorical column 'sex'" in msg
    assert "constraint 3: numeric column 'age' is compared with a quoted text" in msg


def test_parser_rejects_what_it_cannot_read():
    for bad in ["", "age", "age <", "age < 15 ->", "-> age < 3", "a == 1 b == 2", "a == 1 -> b == 2 -> c == 3"]:
        with pytest.raises(ValueError):
            parse_constraint(bad)
    assert parse_constraint("x>=-2.5e1").conclusion[0].value == -25.0


def test_validity_counts_broken_rules_next_to_real_data(tmp_path):
    train, holdout, syn = population(600, 1), population(600, 2), population(600, 3)
    young = syn.index[syn["age"] < 30][:25]
    syn.loc[young, "diagnosis"] = "C50"  # 25 impossible rows (more, with the ones drawn by chance)
    for df in (train, holdout):
        df.loc[df["age"] < 30, "diagnosis"] = "J45"  # the real data respect the rule
    syn.loc[syn.index[:7], "postcode"] = "9999"  # a category train never shows
    files = {r: write_csv(df, tmp_path / f"{r}.csv") for r, df in (("t", train), ("h", holdout), ("s", syn))}
    schema = _schema(tmp_path, RULES.split("[[constraints]]")[0])
    data = load(files["t"], files["h"], files["s"], schema_file=schema, quasi_identifiers=["age", "sex"])
    assert data.schema.to_dict()["constraints"][0].startswith("age < 30")
    (c,) = run_audit(data, seed=0, checks=select_checks(["fidelity.validity"])).checks
    rule = c.details["constraints"][0]
    expected = int(((syn["age"] < 30) & (syn["diagnosis"] == "C50")).sum())
    assert rule["synthetic_violations"] == expected >= 25
    assert rule["holdout_violations"] == 0 and rule["train_violations"] == 0
    bmi_rule = c.details["constraints"][1]
    assert bmi_rule["synthetic_checked"] == int(syn["bmi"].notna().sum())  # missing values are not checked
    post = next(r for r in c.details["columns"] if r["column"] == "postcode")
    assert post["synthetic_count"] == 7
    assert c.estimate.value < c.baseline.value
    known_bad = ((syn["age"] < 30) & (syn["diagnosis"] == "C50")) | (syn.index < 7)
    assert c.details["invalid_synthetic_rows"] >= int(known_bad.sum())  # plus numbers beyond the train range
    assert c.estimate.value == pytest.approx(1 - c.details["invalid_synthetic_rows"] / len(syn))


def test_frames_without_schema_have_no_constraints(pop_tables):
    t = pop_tables
    data = from_frames(t["train"].head(50), t["holdout"].head(50), t["fresh"].head(50))
    assert data.schema.constraints == () and "constraints" not in data.schema.to_dict()
