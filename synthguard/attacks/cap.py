"""Attribute disclosure by key look-up: CAP and DiSCO (WP29 criterion 3, inference).

The attacker knows a person's quasi-identifiers (the *key*), looks up the synthetic records with
exactly that key and reads off their sensitive value.

* **CAP** (correct attribution probability; Elliot 2015, Taub et al. 2018): for a real record,
  the share of synthetic records with its key that carry its true sensitive value. It is undefined
  when no synthetic record has the key; this module averages it over *all* records with 0 for
  unmatched ones (an attacker who finds nothing learns nothing) and reports the average over
  matched records next to it. Averaging over matched records only compares different
  sub-populations for train and holdout and can make a copy of the training data look safer than
  a good release.
* **DiSCO** (disclosive in synthetic, correct in original; Raab, Nowok & Dibben 2024): the share
  of real records whose key is *disclosive* in the synthetic data (every synthetic record with the
  key has the same sensitive value) and whose true value is that value. Such a record's value is
  read off the release with certainty.

Both are computed for an equally large sample of training records (the risk) and of holdout
records (the reference: what population-level statistics give, since the generator never saw
them). A release that copies its training data reads CAP near 1 for records unique on their key
and far above the holdout; a release unrelated to the training records reads no excess.

Keys: categorical quasi-identifiers are used as they are; numeric and datetime ones are binned at
up to ``QI_BINS`` (100) quantiles of the real data (train and holdout), at least ``rare_k`` real
rows per bin, so that a synthetic value near a real one can match it while whole numbers with
fewer distinct values, such as ages in years, stay nearly exact (coarser bins would merge people
and understate what a copy gives away). A numeric or datetime sensitive column is binned the same
way into up to ``SECRET_BINS`` (10) quantile bands; a guess is correct when
it falls in the true value's band (so negative values need no special case, unlike a tolerance
relative to the guess). Missing values are a category of their own, in keys and in secrets (two
missing secrets match).

References
----------
M. Elliot, "Final report on the disclosure risk associated with the synthetic data produced by
the SYLLS team", CMIST report 2015-2 (2015).
J. Taub, M. Elliot, M. Pampaka and D. Smith, "Differential correct attribution probability for
synthetic data: an exploration", Privacy in Statistical Databases (PSD 2018), LNCS 11126, 122-137.
G. M. Raab, B. Nowok and C. Dibben, "Practical privacy metrics for synthetic data",
arXiv:2406.16826 (2024).
M. Giomi, F. Boenisch, C. Wehmeyer and B. Tasnádi, "A unified framework for quantifying privacy
risk in synthetic data", PoPETs 2023 (the residual-risk normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from synthguard.attacks._qi_keys import EqualSamples, counts_in, equal_samples, join_names, key_codes
from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, CheckSkipped, register
from synthguard.core.hashing import row_hashes
from synthguard.core.stats import bootstrap_interval, newcombe_difference, wilson

__all__ = ["CAP", "DiSCO", "SecretLookup", "cap_values", "disco_flags", "secret_lookup"]

#: largest number of quantile bins for a numeric quasi-identifier (nearly exact for ages in years)
QI_BINS = 100
#: largest number of quantile bands for a numeric sensitive column (deciles)
SECRET_BINS = 10
#: bootstrap replicates are drawn in blocks of about this many indices (bounds memory)
_BLOCK = 2_000_000


@dataclass(frozen=True)
class SecretLookup:
    """Counts behind CAP and DiSCO for the train and holdout samples (aggregates per record).

    ``n_key_*``: synthetic records with the record's key; ``n_pair_*``: of those, the ones with the
    record's sensitive value; ``n_values_*``: distinct sensitive values among them (1 = the key is
    disclosive in the synthetic data); ``marginal_*``: share of all synthetic records with the
    record's sensitive value (what a guess from the marginal distribution gets right).
    """

    samples: EqualSamples
    n_key_train: np.ndarray
    n_pair_train: np.ndarray
    n_values_train: np.ndarray
    marginal_train: np.ndarray
    n_key_holdout: np.ndarray
    n_pair_holdout: np.ndarray
    n_values_holdout: np.ndarray
    marginal_holdout: np.ndarray
    qi_bins: dict[str, int]
    secret_bins: int | None
    n_synthetic: int


def secret_lookup(ctx: AuditContext, secret: str) -> SecretLookup:
    """Look up every sampled train and holdout record's key and secret in the synthetic data (cached)."""

    def compute() -> SecretLookup:
        schema = ctx.schema
        qis = [c for c in schema.quasi_identifiers if c != secret]
        keys = key_codes(ctx, qis, QI_BINS)
        sec = key_codes(ctx, [secret], SECRET_BINS)
        samples = equal_samples(ctx)
        both = {
            role: _with_secret(getattr(keys, role), getattr(sec, role)) for role in ("train", "holdout", "synthetic")
        }
        k_syn = keys.keys("synthetic")
        p_syn = _hash(both["synthetic"])
        s_syn = sec.synthetic[:, 0]
        # the key of each distinct (key, secret) pair: counting them per key gives the number of
        # distinct secret values among the synthetic records with that key
        key_of_pair = k_syn[np.unique(p_syn, return_index=True)[1]]
        out: dict[str, np.ndarray] = {}
        for role, rows in (("train", samples.train), ("holdout", samples.holdout)):
            k = keys.keys(role)[rows]
            p = _hash(both[role][rows])
            out[f"n_key_{role}"] = counts_in(k_syn, k)
            out[f"n_pair_{role}"] = counts_in(p_syn, p)
            out[f"n_values_{role}"] = counts_in(key_of_pair, k)
            out[f"marginal_{role}"] = counts_in(s_syn, getattr(sec, role)[rows, 0]) / max(len(s_syn), 1)
        secret_bins = sec.bins.get(secret)
        return SecretLookup(
            samples=samples,
            qi_bins=dict(keys.bins),
            secret_bins=secret_bins,
            n_synthetic=len(s_syn),
            **out,
        )

    lookup: SecretLookup = ctx.cached(f"cap.lookup[{secret}]", compute)
    return lookup


def _with_secret(key_codes_: np.ndarray, secret_codes: np.ndarray) -> np.ndarray:
    return np.concatenate([key_codes_, secret_codes], axis=1)


def _hash(codes: np.ndarray) -> np.ndarray:
    return row_hashes(pd.DataFrame(codes))


def cap_values(n_key: np.ndarray, n_pair: np.ndarray) -> np.ndarray:
    """Per-record CAP ``n_pair / n_key``, 0 where the key is not in the synthetic data."""
    n_key = np.asarray(n_key, dtype=float)
    out = np.zeros(len(n_key))
    np.divide(np.asarray(n_pair, dtype=float), n_key, out=out, where=n_key > 0)
    return out


def disco_flags(n_key: np.ndarray, n_pair: np.ndarray) -> np.ndarray:
    """Whether each record's key is disclosive in the synthetic data and correct in the original.

    The key occurs in the synthetic data and every synthetic record with it carries the record's
    own sensitive value (so ``n_pair == n_key > 0``).
    """
    n_key, n_pair = np.asarray(n_key), np.asarray(n_pair)
    return (n_key > 0) & (n_pair == n_key)


def _secret_phrase(lookup: SecretLookup, secret: str) -> str:
    if lookup.secret_bins is None:
        return f"'{secret}'"
    return f"the band of '{secret}' (one of {lookup.secret_bins} quantile bands of the real data)"


def _secrets(ctx: AuditContext) -> list[str]:
    schema = ctx.schema
    secrets = [s for s in schema.sensitive if [q for q in schema.quasi_identifiers if q != s]]
    if not schema.sensitive:
        raise CheckSkipped("no sensitive column")
    if not secrets:
        raise CheckSkipped("every sensitive column is also the only quasi-identifier")
    return secrets


def _rate(k: int, n: int, conf: float, prefix: str) -> dict[str, Any]:
    lo, hi = wilson(int(k), int(n), conf)
    return {prefix: k / n if n else 0.0, f"{prefix}_ci_low": lo, f"{prefix}_ci_high": hi}


def _ensure(value: float, lo: float, hi: float) -> tuple[float, float]:
    """An interval that contains its point estimate (percentile intervals need not)."""
    return min(lo, value), max(hi, value)


def _normalised(cap_t: ArrayLike, cap_h: ArrayLike) -> np.ndarray:
    """anonymeter's residual risk ``(train − holdout) / (1 − holdout)``; 0 where the holdout CAP is 1."""
    cap_t, cap_h = np.asarray(cap_t, dtype=float), np.asarray(cap_h, dtype=float)
    out = np.zeros(np.broadcast(cap_t, cap_h).shape)
    np.divide(cap_t - cap_h, 1.0 - cap_h, out=out, where=cap_h < 1.0)
    return out


def _bootstrap(
    rng: np.random.Generator, n_boot: int, train: dict[str, np.ndarray], holdout: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of the means of per-record values, train and holdout resampled independently.

    Returns the replicate means of each array (``"train.<name>"``, ``"holdout.<name>"``) and, for
    ``cap_matched``, the replicate ratio ``sum(cap) / sum(matched)``.
    """
    m_t = len(next(iter(train.values())))
    m_h = len(next(iter(holdout.values())))
    block = max(1, _BLOCK // max(m_t, m_h, 1))
    out: dict[str, list[np.ndarray]] = {}
    done = 0
    while done < n_boot:
        b = min(block, n_boot - done)
        for side, vals, m in (("train", train, m_t), ("holdout", holdout, m_h)):
            idx = rng.integers(0, m, size=(b, m))
            sums = {name: v[idx].sum(axis=1) for name, v in vals.items()}
            for name, s in sums.items():
                out.setdefault(f"{side}.{name}", []).append(s / m)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = sums["cap"] / sums["matched"]
            out.setdefault(f"{side}.cap_matched", []).append(ratio)
        done += b
    return {k: np.concatenate(v) for k, v in out.items()}


@register
class CAP:
    """Correct attribution probability from a key look-up, train vs holdout, one result per secret."""

    id: ClassVar[str] = "attribute.cap"
    family: ClassVar[str] = "attribute"
    help: ClassVar[str] = (
        "Correct attribution probability (CAP): how often the synthetic records sharing a "
        "person's quasi-identifiers carry their sensitive value, for training records "
        "against holdout records (risk normalised as in anonymeter)."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers", "sensitive"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        conf = ctx.settings.confidence
        n_boot = max(int(ctx.settings.n_bootstrap), 20)
        out = []
        for secret in _secrets(ctx):
            lk = secret_lookup(ctx, secret)
            qis = [c for c in ctx.schema.quasi_identifiers if c != secret]
            m = lk.samples.size
            side: dict[str, dict[str, np.ndarray]] = {}
            for role in ("train", "holdout"):
                n_key, n_pair = getattr(lk, f"n_key_{role}"), getattr(lk, f"n_pair_{role}")
                side[role] = {
                    "cap": cap_values(n_key, n_pair),
                    "matched": (n_key > 0).astype(float),
                    "marginal": getattr(lk, f"marginal_{role}"),
                }
            means = {f"{r}.{k}": float(v.mean()) if m else 0.0 for r, d in side.items() for k, v in d.items()}
            for r in ("train", "holdout"):
                k_match = float(side[r]["matched"].sum())
                means[f"{r}.cap_matched"] = float(side[r]["cap"].sum()) / k_match if k_match else float("nan")
            boot = _bootstrap(ctx.rng, n_boot, side["train"], side["holdout"])
            ci = {name: _ensure(means[name], *bootstrap_interval(reps, conf)) for name, reps in boot.items()}
            cap_t, cap_h = means["train.cap"], means["holdout.cap"]
            risk_raw = float(_normalised(cap_t, cap_h))
            risk_reps = _normalised(boot["train.cap"], boot["holdout.cap"])
            r_lo, r_hi = bootstrap_interval(risk_reps, conf)
            r_lo, r_hi = _ensure(risk_raw, r_lo, r_hi)
            value = min(max(risk_raw, 0.0), 1.0)
            lo, hi = min(max(r_lo, 0.0), value), max(min(r_hi, 1.0), value)
            method = f"bootstrap percentile ({n_boot} resamples of train and holdout records)"
            est = Estimate(
                value, lo, hi, conf, m, f"normalised CAP excess (CAP_train − CAP_holdout)/(1 − CAP_holdout), {method}"
            )
            base = Estimate(cap_h, *ci["holdout.cap"], conf, m, f"CAP of holdout records, {method}")
            excess = cap_t - cap_h
            ex_lo, ex_hi = _ensure(excess, *bootstrap_interval(boot["train.cap"] - boot["holdout.cap"], conf))
            k_mt, k_mh = int(side["train"]["matched"].sum()), int(side["holdout"]["matched"].sum())
            syn_unique = {r: getattr(lk, f"n_key_{r}") == 1 for r in ("train", "holdout")}
            details: dict[str, Any] = {
                "secret": secret,
                "secret_kind": "categorical" if lk.secret_bins is None else "binned numeric",
                "secret_bands": lk.secret_bins,
                "quasi_identifiers": qis,
                "quasi_identifier_bins": lk.qi_bins,
                "records_compared": m,
                "synthetic_rows": lk.n_synthetic,
                "estimate_variant": (
                    "normalised excess (CAP_train − CAP_holdout)/(1 − CAP_holdout), clipped to [0, 1]; "
                    "CAP averaged over all records, 0 where no synthetic record has the key"
                ),
                "cap_train": cap_t,
                "cap_train_ci_low": ci["train.cap"][0],
                "cap_train_ci_high": ci["train.cap"][1],
                "cap_holdout": cap_h,
                "cap_holdout_ci_low": ci["holdout.cap"][0],
                "cap_holdout_ci_high": ci["holdout.cap"][1],
                "cap_matched_train": means["train.cap_matched"],
                "cap_matched_train_ci_low": ci["train.cap_matched"][0],
                "cap_matched_train_ci_high": ci["train.cap_matched"][1],
                "cap_matched_holdout": means["holdout.cap_matched"],
                "cap_matched_holdout_ci_low": ci["holdout.cap_matched"][0],
                "cap_matched_holdout_ci_high": ci["holdout.cap_matched"][1],
                "matched_train": k_mt,
                "matched_holdout": k_mh,
                **_rate(k_mt, m, conf, "match_rate_train"),
                **_rate(k_mh, m, conf, "match_rate_holdout"),
                "cap_random_guess": means["train.marginal"],
                "cap_random_guess_ci_low": ci["train.marginal"][0],
                "cap_random_guess_ci_high": ci["train.marginal"][1],
                "cap_random_guess_method": "share of synthetic records with the person's value (the marginal)",
                "excess": excess,
                "excess_ci_low": ex_lo,
                "excess_ci_high": ex_hi,
                "risk_unclipped": risk_raw,
                "risk_unclipped_ci_low": r_lo,
                "risk_unclipped_ci_high": r_hi,
                "synthetic_unique_train": int(syn_unique["train"].sum()),
                "synthetic_unique_holdout": int(syn_unique["holdout"].sum()),
                "cap_where_synthetic_unique_train": _mean_where(side["train"]["cap"], syn_unique["train"]),
                "cap_where_synthetic_unique_holdout": _mean_where(side["holdout"]["cap"], syn_unique["holdout"]),
                "interval_method": method,
            }
            who = join_names(qis)
            summary = (
                f"An attacker who knows a person's {who} and looks up the synthetic records with the same "
                f"values gets {_secret_phrase(lk, secret)} right with probability {cap_t:.3f} on average for "
                f"people in the training data and {cap_h:.3f} for other people (holdout; a guess from the "
                f"overall distribution gets {means['train.marginal']:.3f}); {k_mt / m:.1%} and {k_mh / m:.1%} "
                f"of them have a match in the release. The estimate is the normalised excess "
                f"(CAP_train − CAP_holdout)/(1 − CAP_holdout) = {value:.3f} "
                f"({conf:.0%} CI {lo:.3f}-{hi:.3f}): 0 means the release reveals nothing about the "
                f"training records that it does not reveal about anyone."
            )
            out.append(
                CheckResult(
                    id=f"{self.id}[secret={secret}]",
                    family=self.family,
                    kind="risk",
                    estimate=est,
                    baseline=base,
                    summary=summary,
                    details=details,
                    params={
                        "secret": secret,
                        "records_compared": m,
                        "qi_bins": QI_BINS,
                        "secret_bins": SECRET_BINS,
                        "n_bootstrap": n_boot,
                    },
                )
            )
        return out


def _mean_where(values: np.ndarray, mask: np.ndarray) -> float | None:
    return float(values[mask].mean()) if mask.any() else None


@register
class DiSCO:
    """Share of records whose key is disclosive in the synthetic data and correct, train vs holdout."""

    id: ClassVar[str] = "attribute.disco"
    family: ClassVar[str] = "attribute"
    help: ClassVar[str] = (
        "DiSCO: share of people whose quasi-identifiers single out synthetic records that all "
        "carry one sensitive value, and it is theirs; training records against holdout records."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "quasi_identifiers", "sensitive"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        conf = ctx.settings.confidence
        out = []
        for secret in _secrets(ctx):
            lk = secret_lookup(ctx, secret)
            qis = [c for c in ctx.schema.quasi_identifiers if c != secret]
            m = lk.samples.size
            flags = {
                r: disco_flags(getattr(lk, f"n_key_{r}"), getattr(lk, f"n_pair_{r}")) for r in ("train", "holdout")
            }
            disclosive = {r: getattr(lk, f"n_values_{r}") == 1 for r in ("train", "holdout")}
            k_t, k_h = int(flags["train"].sum()), int(flags["holdout"].sum())
            lo, hi = wilson(k_t, m, conf)
            blo, bhi = wilson(k_h, m, conf)
            est = Estimate(k_t / m, lo, hi, conf, m, "share of training records, Wilson")
            base = Estimate(k_h / m, blo, bhi, conf, m, "share of holdout records (population level), Wilson")
            diff, dlo, dhi = newcombe_difference(k_t, m, k_h, m, conf)
            ds_t, ds_h = int(disclosive["train"].sum()), int(disclosive["holdout"].sum())
            details: dict[str, Any] = {
                "secret": secret,
                "secret_kind": "categorical" if lk.secret_bins is None else "binned numeric",
                "secret_bands": lk.secret_bins,
                "quasi_identifiers": qis,
                "quasi_identifier_bins": lk.qi_bins,
                "records_compared": m,
                "synthetic_rows": lk.n_synthetic,
                "disco_train_count": k_t,
                "disco_holdout_count": k_h,
                "excess": diff,
                "excess_ci_low": dlo,
                "excess_ci_high": dhi,
                "excess_method": "difference of independent proportions, Newcombe (1998) method 10",
                "disclosive_in_synthetic_train_count": ds_t,
                "disclosive_in_synthetic_holdout_count": ds_h,
                **_rate(ds_t, m, conf, "disclosive_in_synthetic_train"),
                **_rate(ds_h, m, conf, "disclosive_in_synthetic_holdout"),
                "correct_when_disclosive_train": k_t / ds_t if ds_t else None,
                "correct_when_disclosive_holdout": k_h / ds_h if ds_h else None,
            }
            who = join_names(qis)
            summary = (
                f"An attacker who knows a person's {who} finds, for {est.value:.1%} of training records "
                f"({conf:.0%} CI {lo:.1%}-{hi:.1%}), that every synthetic record with those values has the same "
                f"{_secret_phrase(lk, secret)} and that it is the person's own (disclosive in the synthetic "
                f"data, correct in the original); for people outside the training data the share is "
                f"{base.value:.1%}. The excess, {diff:+.1%} ({conf:.0%} CI {dlo:+.1%} to {dhi:+.1%}), is what "
                f"the release discloses about the people it was made from."
            )
            out.append(
                CheckResult(
                    id=f"{self.id}[secret={secret}]",
                    family=self.family,
                    kind="risk",
                    estimate=est,
                    baseline=base,
                    summary=summary,
                    details=details,
                    params={"secret": secret, "records_compared": m, "qi_bins": QI_BINS, "secret_bins": SECRET_BINS},
                )
            )
        return out
