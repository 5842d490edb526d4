"""Reading and validating the three tables."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthguard.audit.tables import ReadOptions, from_frames, load, read_table
from synthguard.errors import InputError


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_semicolon_and_decimal_comma_norwegian_export(tmp_path):
    text = "alder;kjønn;vekt;diagnose\n" + "".join(
        f"{20 + i % 50};{'K' if i % 2 else 'M'};{60 + i % 30},{i % 10};D{i % 4}\n" for i in range(60)
    )
    files = [_write(tmp_path / f"{n}.csv", text, "utf-8-sig") for n in ("t", "h", "s")]
    data = load(*files)
    assert data.schema.kind("vekt") == "numeric"
    assert data.train["vekt"].iloc[1] == pytest.approx(61.1)
    assert data.schema.kind("kjønn") == "categorical"
    # Norwegian quasi-identifier names are recognised and flagged as guessed
    assert set(data.schema.quasi_identifiers) == {"alder", "kjønn"}
    assert "quasi_identifiers" in data.schema.guessed
    assert "diagnose" in data.schema.sensitive


def test_gzip_csv_and_parquet_give_the_same_typed_table(tmp_path, pop_tables):
    df = pop_tables["train"].head(200)
    gz = tmp_path / "t.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        df.to_csv(f, index=False)
    pq = tmp_path / "t.parquet"
    df.to_parquet(pq)
    a = load(gz, gz, gz)
    b = load(pq, pq, pq)
    assert a.schema.names == b.schema.names
    pd.testing.assert_frame_equal(a.train, b.train, check_dtype=False)


def test_literal_none_survives_and_na_values_are_configurable(tmp_path):
    rows = "".join(f"{i},{['None', 'Norm', '>7', '?'][i % 4]}\n" for i in range(40))
    f = _write(tmp_path / "d.csv", "age,A1Cresult\n" + rows)
    data = load(f, f, f)
    assert (data.train["A1Cresult"] == "None").sum() == 10
    assert (data.train["A1Cresult"] == "?").sum() == 10
    data = load(f, f, f, options=ReadOptions(na_values=("", "?")))
    assert data.train["A1Cresult"].isna().sum() == 10
    assert (data.train["A1Cresult"] == "None").sum() == 10


def test_identifier_columns_are_excluded_with_a_warning(tmp_path, pop_tables):
    df = pop_tables["train"].head(100).copy()
    df.insert(0, "patient_id", [f"P{i:05d}" for i in range(100)])
    df.insert(1, "row", range(100))
    df["weight_kg"] = np.round(np.random.default_rng(0).normal(70, 10, 100), 3)  # unique but a measurement
    f = tmp_path / "t.csv"
    df.to_csv(f, index=False)
    data = load(f, f, f)
    assert set(data.schema.excluded) == {"patient_id", "row"}
    assert "weight_kg" in data.schema.names
    assert any("patient_id" in w for w in data.warnings)


def test_datetime_columns_iso_and_day_first(tmp_path):
    rows = "".join(f"2020-01-{1 + i % 28:02d},{1 + i % 28:02d}.03.1980,{i % 3}\n" for i in range(40))
    f = _write(tmp_path / "d.csv", "admitted,fødselsdato,x\n" + rows)
    data = load(f, f, f)
    assert data.schema.kind("admitted") == "datetime"
    assert data.schema.kind("fødselsdato") == "datetime"
    assert data.train["fødselsdato"].iloc[0] == pd.Timestamp("1980-03-01")
    assert "fødselsdato" in data.schema.quasi_identifiers


def test_every_problem_is_listed_at_once_without_values(tmp_path, pop_tables):
    train = pop_tables["train"].head(100)
    t = tmp_path / "train.csv"
    train.to_csv(t, index=False)
    h = tmp_path / "holdout.csv"
    train.drop(columns=["bmi"]).assign(extra=1).to_csv(h, index=False)
    s = tmp_path / "synthetic.csv"
    bad = train.copy().astype({"age": object})
    bad.loc[3, "age"] = "SECRETVALUE"
    bad["income"] = np.nan
    bad.to_csv(s, index=False)
    with pytest.raises(InputError) as ei:
        load(t, h, s)
    msg = ei.value.one_line()
    assert "\n" not in msg
    assert "holdout.csv: column 'bmi' is missing" in msg
    assert "holdout.csv: column 'extra' is not in the train table" in msg
    assert "synthetic.csv: column 'age': 1 of 100 values are not numbers" in msg
    assert "synthetic.csv: column 'income' has only missing values" in msg
    assert "SECRETVALUE" not in msg


def test_mostly_numeric_train_column_with_junk_is_an_error_not_a_category(tmp_path):
    rows = "".join(f"{i},{'x' if i == 7 else i * 2}\n" for i in range(100))
    f = _write(tmp_path / "t.csv", "a,b\n" + rows)
    with pytest.raises(InputError, match=r"t\.csv: column 'b': 99 values are numbers but 1 are not"):
        load(f, f, f)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"a,b\n", "the table has no rows"),
        (b"\x1f\x8b\x08\x00garbage", "not a readable gzip file"),
    ],
)
def test_unreadable_or_empty_files(tmp_path, content, expected):
    good = tmp_path / "good.csv"
    good.write_text("a,b\n1,x\n2,y\n")
    name = "bad.csv.gz" if content.startswith(b"\x1f\x8b") else "bad.csv"
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(InputError, match=expected):
        load(good, good, bad)


def test_missing_file_and_wrong_encoding(tmp_path):
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv")
    f = tmp_path / "latin.csv"
    f.write_bytes("navn,by\nÅse,Tromsø\n".encode("cp1252"))
    with pytest.raises(InputError, match="--encoding"):
        read_table(f)
    df, _ = read_table(f, ReadOptions(encoding="cp1252"))
    assert df.columns.tolist() == ["navn", "by"]


def test_ragged_csv_is_one_clear_error(tmp_path):
    f = _write(tmp_path / "r.csv", "a,b\n1,2\n3,4,5\n")
    with pytest.raises(InputError, match="rows have different numbers of fields"):
        read_table(f)


def test_roles_from_command_line_override_schema_file(tmp_path, pop_tables):
    f = tmp_path / "t.csv"
    pop_tables["train"].head(100).to_csv(f, index=False)
    schema = tmp_path / "s.toml"
    schema.write_text(
        '[columns]\npostcode = "categorical"\n[roles]\nquasi_identifiers = ["age"]\n'
        'sensitive = ["income"]\ntarget = "diagnosis"\n'
    )
    data = load(f, f, f, schema_file=schema)
    assert data.schema.quasi_identifiers == ("age",)
    assert data.schema.sensitive == ("income",)
    assert data.schema.target == "diagnosis"
    assert data.schema["postcode"].source == "schema file"
    assert not data.schema.guessed
    data = load(f, f, f, schema_file=schema, quasi_identifiers=["sex", "postcode"])
    assert data.schema.quasi_identifiers == ("sex", "postcode")


def test_postcode_declared_categorical_keeps_leading_zeros(tmp_path):
    rows = "".join(f"{'0' if i % 2 else ''}{1000 + i % 20},{i % 5}\n" for i in range(60))
    f = _write(tmp_path / "t.csv", "postnummer,x\n" + rows)
    schema = tmp_path / "s.toml"
    schema.write_text('[columns]\npostnummer = "categorical"\n')
    data = load(f, f, f, schema_file=schema)
    assert data.train["postnummer"].iloc[1] == "01001"


def test_unknown_role_column_is_an_input_error(tmp_path, pop_tables):
    f = tmp_path / "t.csv"
    pop_tables["train"].head(50).to_csv(f, index=False)
    with pytest.raises(InputError, match="quasi-identifier column 'zip' is not in the data"):
        load(f, f, f, quasi_identifiers=["zip"])
    with pytest.raises(InputError, match="both quasi-identifier and sensitive"):
        load(f, f, f, quasi_identifiers=["age"], sensitive=["age"])


def test_from_frames_accepts_typed_and_text_frames_alike(pop_tables):
    t = pop_tables["train"].head(100)
    as_text = t.astype(str).replace("nan", np.nan)
    a = from_frames(t, t, t)
    b = from_frames(as_text, as_text, as_text)
    pd.testing.assert_frame_equal(a.train, b.train, check_dtype=False)
    assert a.sources["train"].sha256 == from_frames(t, t, t).sources["train"].sha256
