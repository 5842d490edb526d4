"""The command line, through click's CliRunner."""

import gzip
import json

import pytest
from click.testing import CliRunner

from synthguard import __version__
from synthguard.cli import main

COMMANDS = ["audit", "demo", "checks", "generators", "policies"]


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def audit_args(files, out, *extra):
    return [
        "audit",
        "--train",
        str(files["train"]),
        "--holdout",
        str(files["holdout"]),
        "--synthetic",
        str(files["synthetic"]),
        "--out",
        str(out),
        "-q",
        *extra,
    ]


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.stdout


@pytest.mark.parametrize("cmd", [[], *[[c] for c in COMMANDS]])
def test_help_of_every_command(cmd):
    r = run(*cmd, "--help")
    assert r.exit_code == 0
    assert "Usage:" in r.stdout


def test_checks_generators_policies_list_things():
    assert "singling_out.univariate" in run("checks").stdout
    assert "noisy-copy" in run("generators").stdout
    assert "controlled" in run("policies").stdout


def test_demo_is_private_and_writes_both_outputs(tmp_path):
    r = run("demo", "--out", str(tmp_path), "-q")
    assert r.exit_code == 0, r.stderr
    assert "verdict: WARN" in r.stderr  # private, but independent marginals lose the relationships
    d = json.loads((tmp_path / "results.json").read_text())
    assert d["policy"]["verdict"] == "warn"
    assert {b["severity"] for b in d["policy"]["broken_rules"]} == {"warn"}
    assert "bundled Adult sample" in d["inputs"]["train"]["path"]
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_demo_with_leaky_generator_fails_with_exit_1(tmp_path):
    r = run("demo", "--generator", "noisy-copy", "--out", str(tmp_path), "-q")
    assert r.exit_code == 1
    assert "verdict: FAIL" in r.stderr and "distance.exact_match" in r.stderr


def test_audit_on_small_files(small_files, tmp_path):
    r = run(
        *audit_args(
            small_files, tmp_path / "out", "--qi", "age,sex,postcode", "--sensitive", "diagnosis", "--n-attacks", "300"
        )
    )
    assert r.exit_code in (0, 1), r.stderr
    d = json.loads((tmp_path / "out" / "results.json").read_text())
    assert d["schema"]["roles"]["quasi_identifiers"] == ["age", "sex", "postcode"]
    assert d["settings"]["n_attacks"] == 300
    assert {c["family"] for c in d["checks"]} >= {"singling_out", "linkage", "attribute", "distance", "fidelity"}


def test_same_seed_gives_byte_identical_json_apart_from_timings(small_files, tmp_path):
    outs = []
    for i in range(2):
        r = run(*audit_args(small_files, tmp_path / f"o{i}", "--seed", "5", "--n-attacks", "200"))
        assert r.exit_code in (0, 1, 3), r.stderr
        d = json.loads((tmp_path / f"o{i}" / "results.json").read_text())
        d.pop("timings")
        outs.append(json.dumps(d, sort_keys=True, indent=2))
    assert outs[0] == outs[1]
    r = run(*audit_args(small_files, tmp_path / "o2", "--seed", "6", "--n-attacks", "200"))
    d = json.loads((tmp_path / "o2" / "results.json").read_text())
    d.pop("timings")
    assert json.dumps(d, sort_keys=True, indent=2) != outs[0]


def _assert_one_line_exit_2(r, *needles):
    assert r.exit_code == 2, (r.exit_code, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0]


def test_bad_input_missing_column(small_files, tmp_path):
    import pandas as pd

    df = pd.read_csv(small_files["synthetic"]).drop(columns=["bmi"])
    df.to_csv(small_files["synthetic"], index=False)
    r = run(*audit_args(small_files, tmp_path / "out"))
    _assert_one_line_exit_2(r, "synthetic.csv", "'bmi'", "missing")
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_bad_input_empty_file(small_files, tmp_path):
    small_files["holdout"].write_text("")
    _assert_one_line_exit_2(run(*audit_args(small_files, tmp_path / "out")), "holdout.csv", "empty")


def test_bad_input_junk_in_numeric_column(small_files, tmp_path):
    text = small_files["synthetic"].read_text().splitlines()
    cells = text[5].split(",")
    cells[0] = "forty-two"
    text[5] = ",".join(cells)
    small_files["synthetic"].write_text("\n".join(text) + "\n")
    r = run(*audit_args(small_files, tmp_path / "out"))
    _assert_one_line_exit_2(r, "synthetic.csv", "'age'", "not numbers")
    assert "forty-two" not in r.stderr


def test_bad_input_unreadable_files(small_files, tmp_path):
    bad = tmp_path / "broken.csv.gz"
    bad.write_bytes(gzip.compress(b"a,b\n1,2\n")[:15])
    small_files["train"] = bad
    small_files["holdout"] = tmp_path / "does-not-exist.csv"
    r = run(*audit_args(small_files, tmp_path / "out"))
    _assert_one_line_exit_2(r, "broken.csv.gz", "does-not-exist.csv: file not found")


def test_bad_options_are_one_line_errors(small_files, tmp_path):
    _assert_one_line_exit_2(run(*audit_args(small_files, tmp_path / "o", "--policy", "public")), "unknown policy")
    _assert_one_line_exit_2(run(*audit_args(small_files, tmp_path / "o", "--qi", "zip")), "'zip'")
    _assert_one_line_exit_2(run(*audit_args(small_files, tmp_path / "o", "--checks", "nope.*")), "no check matches")
    _assert_one_line_exit_2(run(*audit_args(small_files, tmp_path / "o", "--n-attacks", "0")), "n_attacks")


def test_missing_quasi_identifiers_make_the_audit_incomplete(small_files, tmp_path):
    import pandas as pd

    for role in ("train", "holdout", "synthetic"):
        df = pd.read_csv(small_files[role]).rename(columns={"age": "a", "sex": "s", "postcode": "p"})
        df.to_csv(small_files[role], index=False)
    # the internal policy judges point estimates, so on this small table nothing fails for width alone
    r = run(*audit_args(small_files, tmp_path / "out", "--n-attacks", "200", "--policy", "internal"))
    assert r.exit_code == 3, r.stderr
    assert "incomplete" in r.stderr and "quasi-identifiers" in r.stderr


def test_environment_and_pyproject_settings(small_files, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.synthguard]\nn_attacks = 150\nseed = 4\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNTHGUARD_SEED", "9")
    r = run(*audit_args(small_files, tmp_path / "out", "--qi", "age,sex", "--sensitive", "diagnosis"))
    assert r.exit_code in (0, 1), r.stderr
    d = json.loads((tmp_path / "out" / "results.json").read_text())
    assert d["seed"] == 9 and d["settings"]["n_attacks"] == 150
    assert d["settings"]["sources"] == {"n_attacks": "pyproject.toml", "seed": "env SYNTHGUARD_SEED"}
