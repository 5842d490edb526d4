"""Reports: escaping, offline, small-cell suppression, deterministic JSON."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from synthguard.api import audit, write_outputs
from synthguard.errors import InputError
from synthguard.reports.charts import bar_chart_svg
from synthguard.reports.html import render_html
from synthguard.reports.json import dumps_json

EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def evil_result(pop_tables):
    """Column names and categories that try to inject markup; one category seen only 3 times."""
    frames = {}
    for role in ("train", "holdout", "fresh"):
        df = pop_tables[role].head(800).copy()
        df = df.rename(columns={"postcode": f"post{EVIL}"})
        df["sex"] = np.where(df["sex"] == "F", EVIL, "$\\frac{1}{2}$ <b>")
        df.loc[df.index[:3], "diagnosis"] = "RAREDIAG"
        frames[role] = df
    return audit(
        frames["train"],
        frames["holdout"],
        frames["fresh"],
        seed=0,
        quasi_identifiers=["age", "sex", f"post{EVIL}"],
        sensitive=["diagnosis"],
    )


def test_html_escapes_everything_from_data(evil_result):
    html = render_html(evil_result.to_dict())
    assert EVIL not in html
    assert "<b>" not in html  # the template has no <b>; this one came from the data
    assert "&lt;script&gt;" in html


def test_html_is_self_contained(evil_result):
    html = render_html(evil_result.to_dict())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    assert html.count("<svg") >= len(evil_result.by_family("fidelity"))


def test_rare_categories_are_grouped_in_every_output(evil_result):
    d = evil_result.to_dict()
    text = dumps_json(d) + render_html(d)
    assert "RAREDIAG" not in text
    chart = evil_result.check("fidelity.marginal[column=diagnosis]").details["chart"]
    assert "(rare)" in chart["labels"]


def test_json_is_sorted_and_strict(evil_result):
    text = dumps_json(evil_result.to_dict())
    d = json.loads(text)
    assert list(d) == sorted(d)
    assert d["schema_version"]
    assert "NaN" not in text


def test_no_real_record_appears_in_outputs(pop_tables, tmp_path):
    """Values that identify a person (near-unique incomes) never reach JSON or HTML."""
    t = pop_tables
    r = audit(
        t["train"],
        t["holdout"],
        t["train"].copy(),
        seed=0,
        quasi_identifiers=["age", "sex", "postcode"],
        sensitive=["diagnosis"],
    )
    paths = write_outputs(r, tmp_path)
    text = "".join(p.read_text() for p in paths.values())
    incomes = t["train"]["income"].map(lambda v: f"{v:.2f}")
    leaked = [v for v in incomes if v in text]
    assert leaked == []


def test_chart_svg_treats_labels_as_text_not_tex():
    svg = bar_chart_svg("t", ["$x^2$", "a<b"], {"train": [0.5, 0.5]})
    assert svg.startswith("<svg") and "a&lt;b" in svg and "$x^2$" in svg


def test_write_outputs_is_all_or_nothing(evil_result, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "report.html").mkdir()  # replacing a directory with a file fails
    with pytest.raises(InputError, match="cannot write the outputs"):
        write_outputs(evil_result, target)
    leftovers = sorted(p.name for p in target.iterdir())
    assert leftovers == ["report.html"]  # no results.json without its report, no temp files
    assert (target / "report.html").is_dir()


def test_report_has_verdict_summary_and_reproducibility(evil_result):
    html = render_html(evil_result.to_dict(), command="synthguard audit --seed 0")
    for needle in (
        "Summary",
        "Reproducibility",
        "sha256",
        "synthguard audit --seed 0",
        evil_result.policy["verdict"].upper(),
        "Singling out",
        "Linkability",
        "Inference",
        "Fidelity",
        "guessed" if "quasi_identifiers" in evil_result.schema["guessed_roles"] else "seed",
    ):
        assert needle in html
    assert pd.notna(evil_result.check("linkage.linkability").estimate.value)
