"""Utility: do models trained on the release work on real data?

Every model is scored on the holdout only, which neither the generator nor any model saw. The
reference for a synthetic-trained model is the same model trained on the real training table
(train on synthetic, test on real, "TSTR", against train on real, test on real, "TRTR"; Esteban,
Hyland & Rätsch 2017; Jordon et al. 2022).

Checks (each result id carries the target, e.g. ``utility.tstr[target=income]``)
-------------------------------------------------------------------------------
``utility.tstr``
    Logistic / linear regression and gradient boosting trained on synthetic and on train; AUC,
    accuracy and F1 (classification) or R² and MAE (regression) on the holdout; the utility ratio.
``utility.importance``
    Rank agreement of permutation importances of the synthetic-trained and real-trained models.
``utility.subgroups``
    TSTR against TRTR per group of each categorical (and banded numeric) quasi-identifier or
    sensitive column, flagging groups where the synthetic-trained model is clearly worse.
``utility.analysis``
    Regression of the target on the other columns fitted on synthetic and on train: overlap of the
    coefficients' confidence intervals (Karr et al. 2006).
``utility.transfer``
    Start on synthetic, finish on real: a model trained on a small real budget alone against the
    same model pre-trained on synthetic and trained further on that budget; "real rows saved".

Good scores here are technical validation only: a model developed on synthetic data still needs
clinical validation on real patients before use.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm, rankdata
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

from synthguard.audit.results import CheckResult, Estimate
from synthguard.audit.runner import AuditContext, CheckSkipped, register
from synthguard.metrics._ml import (
    aligned_proba,
    boosting_pipeline,
    boosting_preprocessor,
    boot_weights,
    constant_model,
    feature_frame,
    linear_pipeline,
    quiet_fit,
    seed_from,
    weighted_accuracy,
    weighted_auc,
    weighted_f1,
    weighted_macro_auc,
    weighted_mae,
    weighted_r2,
)

__all__ = [
    "CLINICAL_NOTE",
    "AnalysisAgreement",
    "ImportanceAgreement",
    "SubgroupUtility",
    "TrainSyntheticTestReal",
    "Transfer",
    "ci_overlap",
    "real_rows_saved",
]

CLINICAL_NOTE = (
    "Good scores here are technical validation only: a model developed on synthetic data still needs "
    "clinical validation on real patients before use."
)
RARE = "(rare)"
OTHER = "(other)"
MODEL_NAMES = {"linear": "logistic / linear regression", "boosting": "gradient boosting"}
METRIC_NAMES = {"auc": "AUC", "accuracy": "accuracy", "f1": "F1", "r2": "R²", "mae": "MAE"}
_NO_TARGET = "needs a target column (--target)"


# ----------------------------------------------------------------------------------------------
# the prediction task


@dataclass
class _Task:
    target: str
    kind: str  # "binary", "multiclass", "regression"
    numeric: list[str]
    categorical: list[str]
    X: dict[str, pd.DataFrame]
    y: dict[str, np.ndarray]  # class labels (str) or numbers
    classes: np.ndarray  # every label, sorted (classification)
    positive: str | None
    dropped: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    @property
    def classification(self) -> bool:
        return self.kind != "regression"

    def y_index(self, role: str) -> np.ndarray:
        return np.searchsorted(self.classes, self.y[role])


def _task(ctx: AuditContext) -> _Task:
    def compute() -> _Task:
        schema = ctx.schema
        target = schema.target
        if target is None:
            raise CheckSkipped(_NO_TARGET)
        d = ctx.data
        k = ctx.settings.rare_k
        kind = schema.kind(target)
        features = [c for c in schema.names if c != target]
        if not features:
            raise CheckSkipped("needs at least one column besides the target")
        numeric = [c for c in features if schema.kind(c) in ("numeric", "datetime")]
        categorical = [c for c in features if schema.kind(c) == "categorical"]
        tables = {"train": d.train, "holdout": d.holdout, "synthetic": d.synthetic}
        keep = {r: t[target].notna().to_numpy() for r, t in tables.items()}
        dropped = {r: int((~m).sum()) for r, m in keep.items()}
        raw = {r: t[target][keep[r]] for r, t in tables.items()}
        numeric_target = kind in ("numeric", "datetime")
        raw_num = {
            r: pd.Series(feature_frame(v.to_frame(), [target])[target].to_numpy(float) if numeric_target else [])
            for r, v in raw.items()
        }
        notes: list[str] = []
        if numeric_target and raw_num["train"].nunique() != 2:
            y = {r: v.to_numpy(dtype=float) for r, v in raw_num.items()}
            if np.unique(y["train"]).size < 2:
                raise CheckSkipped("the target has a single value in the training data")
            classes = np.array([], dtype=object)
            task_kind, positive = "regression", None
        else:
            labels = {
                r: (raw_num[r].map(lambda x: f"{x:g}") if numeric_target else v.astype(str).reset_index(drop=True))
                for r, v in raw.items()
            }
            counts = labels["train"].value_counts()
            frequent = [c for c in counts.index if counts[c] >= k]
            if len(frequent) > 30:
                frequent = frequent[:29]
                notes.append("the target has more than 30 frequent classes; the rest are grouped as '(other)'")
            grouped = set(counts.index) - set(frequent)
            fill = OTHER if len(counts) - len(grouped) >= 29 and grouped else RARE

            def group(s: pd.Series) -> np.ndarray:
                return np.where(s.isin(frequent), s, fill).astype(object)

            y = {r: group(v) for r, v in labels.items()}
            if any((counts[c] < k) for c in counts.index):
                notes.append(
                    f"target classes seen fewer than {k} times in train are grouped as '{fill}' "
                    "(small-cell suppression)"
                )
            train_classes, train_counts = np.unique(y["train"], return_counts=True)
            if len(train_classes) < 2:
                raise CheckSkipped("the target has a single value in the training data")
            classes = np.unique(np.concatenate([y[r] for r in y])).astype(object)
            task_kind = "binary" if len(train_classes) == 2 else "multiclass"
            order = np.lexsort((train_classes, train_counts))
            positive = str(train_classes[order[0]]) if task_kind == "binary" else None
            syn_classes = set(np.unique(y["synthetic"]))
            for c in train_classes:
                if c not in syn_classes:
                    notes.append(
                        f"target class '{c}' never occurs in the synthetic data: models trained on it never predict it"
                    )
            if len(syn_classes) < 2:
                notes.append("the synthetic target has a single value: synthetic-trained models predict a constant")
        X = {r: feature_frame(t.loc[keep[r]], features).reset_index(drop=True) for r, t in tables.items()}
        for r, n in dropped.items():
            if n:
                notes.append(f"{n} {r} rows with a missing target are left out")
        return _Task(target, task_kind, numeric, categorical, X, y, classes, positive, dropped, notes)

    return ctx.cached("utility.task", compute)


# ----------------------------------------------------------------------------------------------
# metrics on holdout predictions


def _primary(t: _Task) -> str:
    if t.kind == "regression":
        return "r2"
    present = np.unique(t.y["holdout"])
    return "auc" if present.size >= 2 else "accuracy"


def _metric_reps(
    t: _Task,
    pred: np.ndarray,
    W: np.ndarray,
    rows: np.ndarray | None = None,
    metrics: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """The task's metrics (all, or ``metrics``) for holdout predictions; ``rows`` restricts to a subset."""
    if rows is not None:
        pred, W = pred[rows], W[:, rows]
    want = set(metrics) if metrics is not None else {"r2", "mae", "auc", "accuracy", "f1"}
    out: dict[str, np.ndarray] = {}
    if t.kind == "regression":
        y = t.y["holdout"] if rows is None else t.y["holdout"][rows]
        if "r2" in want:
            out["r2"] = weighted_r2(y, pred, W)
        if "mae" in want:
            out["mae"] = weighted_mae(y, pred, W)
        return out
    yi = t.y_index("holdout") if rows is None else t.y_index("holdout")[rows]
    hard = np.argmax(pred, axis=1)
    if "accuracy" in want:
        out["accuracy"] = weighted_accuracy(hard == yi, W)
    if t.kind == "binary" and t.positive is not None:
        pos = int(np.searchsorted(t.classes, t.positive))
        if "auc" in want:
            out["auc"] = weighted_auc(yi == pos, pred[:, pos], W)
        if "f1" in want:
            out["f1"] = weighted_f1(yi, hard, [pos], W)
    else:
        if "auc" in want:
            out["auc"] = weighted_macro_auc(yi, pred, W)
        if "f1" in want:
            out["f1"] = weighted_f1(yi, hard, [int(k) for k in np.unique(yi)], W)
    return out


def _chance(t: _Task, metric: str) -> float:
    if metric == "auc":
        return 0.5
    if metric == "r2":
        return 0.0
    if metric == "accuracy":
        _, counts = np.unique(t.y["holdout"], return_counts=True)
        return float(counts.max() / counts.sum()) if counts.size else 0.0
    return 0.0


def _interval(reps: np.ndarray, conf: float) -> tuple[float, float]:
    r = reps[np.isfinite(reps)]
    if r.size == 0:
        return math.nan, math.nan
    a = (1 - conf) / 2
    lo, hi = np.quantile(r, [a, 1 - a])
    return float(lo), float(hi)


def _summ(values: np.ndarray, conf: float) -> dict[str, float]:
    """Point value (row 0) and percentile interval of the bootstrap rows (rows 1:)."""
    lo, hi = _interval(values[1:], conf)
    v = float(values[0])
    return {"value": v, "ci_low": min(lo, v) if np.isfinite(lo) else v, "ci_high": max(hi, v) if np.isfinite(hi) else v}


def _normal(value: float, reps: np.ndarray, conf: float) -> dict[str, float]:
    """``value ± z·SE`` with the SE of the replicates (for statistics whose replicates are biased)."""
    r = reps[np.isfinite(reps)]
    se = float(np.std(r, ddof=1)) if r.size > 1 else 0.0
    half = float(norm.ppf(0.5 + conf / 2)) * se
    return {"value": value, "ci_low": value - half, "ci_high": value + half}


def _unit_estimate(s: Mapping[str, float], conf: float, n: int, method: str) -> Estimate:
    """A score clipped to [0, 1] (R² below 0, i.e. worse than predicting the mean, reads 0)."""

    def clip(x: float) -> float:
        return float(min(1.0, max(0.0, x))) if np.isfinite(x) else 0.0

    v = clip(s["value"])
    return Estimate(v, min(clip(s["ci_low"]), v), max(clip(s["ci_high"]), v), conf, n, method)


# ----------------------------------------------------------------------------------------------
# fitted models, shared by the checks


@dataclass
class _Fitted:
    model: Any
    pred: np.ndarray  # holdout predictions: class probabilities (aligned) or values
    constant: bool


def _predict(model: Any, t: _Task, X: pd.DataFrame) -> np.ndarray:
    if t.classification:
        return aligned_proba(model, X, t.classes)
    return np.asarray(model.predict(X), dtype=np.float64)


def _fit(t: _Task, name: str, X: pd.DataFrame, y: np.ndarray, seed: int, rare_k: int) -> tuple[Any, bool]:
    if (t.classification and np.unique(y).size < 2) or len(y) < 2:
        model = constant_model(t.kind)
        with quiet_fit():
            model.fit(X, y)
        return model, True
    if name == "linear":
        model = linear_pipeline(t.kind, t.numeric, t.categorical, rare_k=rare_k, seed=seed)
    else:
        min_rows = int(np.unique(y, return_counts=True)[1].min()) if t.classification else None
        model = boosting_pipeline(t.kind, t.numeric, t.categorical, n_rows=len(y), min_class_rows=min_rows, seed=seed)
    with quiet_fit():
        model.fit(X, y)
    return model, False


def _models(ctx: AuditContext) -> dict[tuple[str, str], _Fitted]:
    """Linear and boosting models trained on synthetic and on train, with their holdout predictions."""

    def compute() -> dict[tuple[str, str], _Fitted]:
        t = _task(ctx)
        rng = ctx.shared_rng("utility.models")
        out = {}
        for name in ("linear", "boosting"):
            for src in ("synthetic", "train"):
                model, const = _fit(t, name, t.X[src], t.y[src], seed_from(rng), ctx.settings.rare_k)
                with quiet_fit():
                    pred = _predict(model, t, t.X["holdout"])
                out[(name, src)] = _Fitted(model, pred, const)
        return out

    return ctx.cached("utility.models", compute)


def _holdout_weights(ctx: AuditContext) -> np.ndarray:
    """Point weights (row 0, every row once) and bootstrap weights (rows 1:) over holdout rows."""
    t = _task(ctx)
    n = len(t.y["holdout"])
    return np.vstack([np.ones((1, n)), boot_weights(ctx.rng, n, int(ctx.settings.n_bootstrap))])


def _result_id(base: str, t: _Task) -> str:
    return f"{base}[target={t.target}]"


def _task_details(t: _Task) -> dict[str, Any]:
    return {
        "target": t.target,
        "task": t.kind,
        "positive_class": t.positive,
        "rows": {r: len(v) for r, v in t.y.items()},
        "missing_target_rows_left_out": t.dropped,
        "features": len(t.features),
    }


# ----------------------------------------------------------------------------------------------
# TSTR


@register
class TrainSyntheticTestReal:
    """Train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

    References
    ----------
    C. Esteban, S. L. Hyland and G. Rätsch, "Real-valued (medical) time series generation with
    recurrent conditional GANs", arXiv:1706.02633 (2017) (TSTR); J. Jordon, L. Szpruch, F. Houssiau
    et al., "Synthetic data: what, why and how?", Royal Society / Alan Turing Institute (2022).
    """

    id: ClassVar[str] = "utility.tstr"
    family: ClassVar[str] = "utility"
    help: ClassVar[str] = (
        "Models trained on synthetic vs on train, both scored on the holdout (AUC/accuracy/F1 or R²/MAE), "
        "with the utility ratio."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "target"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = _task(ctx)
        models = _models(ctx)
        W = _holdout_weights(ctx)
        conf = ctx.settings.confidence
        primary = _primary(t)
        chance = _chance(t, primary)
        table: dict[str, Any] = {}
        reps: dict[tuple[str, str], dict[str, np.ndarray]] = {}
        for (name, src), f in models.items():
            reps[(name, src)] = _metric_reps(t, f.pred, W)
        for name in ("linear", "boosting"):
            s, r = reps[(name, "synthetic")], reps[(name, "train")]
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = (s[primary] - chance) / (r[primary] - chance)
            skill = float(r[primary][0] - chance)
            table[name] = {
                "model": MODEL_NAMES[name],
                "synthetic": {m: _summ(v, conf) for m, v in s.items()},
                "train": {m: _summ(v, conf) for m, v in r.items()},
                "utility_ratio": _summ(ratio, conf) if skill > 0.01 else None,
                "synthetic_model_constant": models[(name, "synthetic")].constant,
            }
        b = table["boosting"]
        n_ho = len(t.y["holdout"])
        method = f"{METRIC_NAMES[primary]} on the holdout, bootstrap percentile interval ({W.shape[0] - 1} resamples)"
        est = _unit_estimate(b["synthetic"][primary], conf, n_ho, method)
        base = _unit_estimate(b["train"][primary], conf, n_ho, method)
        ratio_s = b["utility_ratio"]
        pm = METRIC_NAMES[primary]
        summary = (
            f"Gradient boosting trained on the synthetic data reaches {pm} {b['synthetic'][primary]['value']:.3f} on "
            f"real holdout records; trained on the real training data, {b['train'][primary]['value']:.3f}"
            + (
                f" (utility ratio {ratio_s['value']:.2f}, interval {ratio_s['ci_low']:.2f} to "
                f"{ratio_s['ci_high']:.2f})."
                if ratio_s
                else " (the real-trained model has no skill above chance, so no utility ratio)."
            )
            + f" Logistic/linear regression: {table['linear']['synthetic'][primary]['value']:.3f} vs "
            f"{table['linear']['train'][primary]['value']:.3f}."
        )
        details: dict[str, Any] = {
            **_task_details(t),
            "definition": (
                f"{pm} on the real holdout of gradient boosting trained on the synthetic data; the baseline is the "
                "same model trained on the real training data (TRTR)"
                + (", R² below 0 read as 0" if primary == "r2" else "")
            ),
            "primary_metric": primary,
            "models": table,
            "utility_ratio": None if ratio_s is None else ratio_s["value"],
            "utility_ratio_ci_low": None if ratio_s is None else ratio_s["ci_low"],
            "utility_ratio_ci_high": None if ratio_s is None else ratio_s["ci_high"],
            "utility_ratio_definition": (
                f"(TSTR − chance) / (TRTR − chance) of the {pm} of gradient boosting, chance = {chance:.3g}: the share "
                "of the real-trained model's skill above chance that the synthetic-trained model keeps"
            ),
            "note": CLINICAL_NOTE,
        }
        return [
            CheckResult(
                id=_result_id(self.id, t),
                family=self.family,
                kind="utility",
                estimate=est,
                baseline=base,
                summary=summary,
                details=details,
                params={"n_bootstrap": W.shape[0] - 1},
                warnings=tuple(t.notes),
            )
        ]


# ----------------------------------------------------------------------------------------------
# feature importance


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = rankdata(a), rankdata(b)
    if np.std(ra) == 0 or np.std(rb) == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


@register
class ImportanceAgreement:
    """Rank agreement of permutation importances: synthetic-trained against real-trained model.

    References
    ----------
    L. Breiman, "Random forests", Machine Learning 45 (2001) 5-32 (permutation importance);
    A. Fisher, C. Rudin and F. Dominici, "All models are wrong, but many are useful", JMLR 20
    (2019) 1-81 (model reliance); Spearman (1904) for the rank correlation.
    """

    id: ClassVar[str] = "utility.importance"
    family: ClassVar[str] = "utility"
    help: ClassVar[str] = (
        "Spearman rank correlation of permutation importances of the synthetic-trained and real-trained "
        "gradient boosting models, next to two models trained on halves of train."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "target"})
    max_rows: ClassVar[int] = 2000
    repeats: ClassVar[int] = 3

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = _task(ctx)
        feats = t.features
        if len(feats) < 3:
            raise CheckSkipped("needs at least three columns besides the target")
        models = _models(ctx)
        rng = ctx.rng
        n_ho = len(t.y["holdout"])
        rows = np.sort(rng.choice(n_ho, min(self.max_rows, n_ho), replace=False))
        X_eval = t.X["holdout"].iloc[rows].reset_index(drop=True)
        perms = {(f, r): rng.permutation(len(rows)) for f in feats for r in range(self.repeats)}
        # reference: two boosting models on disjoint halves of train
        n_tr = len(t.y["train"])
        half = rng.permutation(n_tr)
        halves = (np.sort(half[: n_tr // 2]), np.sort(half[n_tr // 2 :]))
        fitted = {
            "synthetic": models[("boosting", "synthetic")].model,
            "train": models[("boosting", "train")].model,
        }
        for i, h in enumerate(halves):
            fitted[f"half{i}"], _ = _fit(
                t, "boosting", t.X["train"].iloc[h], t.y["train"][h], seed_from(rng), ctx.settings.rare_k
            )
        n_boot = min(int(ctx.settings.n_bootstrap), 100)
        W = np.vstack([np.ones((1, len(rows))), boot_weights(rng, len(rows), n_boot)])
        primary = _primary(t)
        sub = _sub_task(t, rows)
        imp: dict[str, np.ndarray] = {}  # (features, 1 + n_boot)
        for key, model in fitted.items():
            with quiet_fit():
                imp[key] = self._importances(sub, model, X_eval, feats, perms, W, primary)
        rho = np.array([_spearman(imp["synthetic"][:, b], imp["train"][:, b]) for b in range(W.shape[0])])
        rho_ref = np.array([_spearman(imp["half0"][:, b], imp["half1"][:, b]) for b in range(W.shape[0])])
        conf = ctx.settings.confidence
        s, r_ = _summ(rho, conf), _summ(rho_ref, conf)
        method = f"Spearman ρ (negative read as 0), bootstrap percentile interval over evaluation rows ({n_boot})"
        est = _unit_estimate(s, conf, len(rows), method)
        base_e = _unit_estimate(r_, conf, len(rows), method)
        order = np.argsort(-imp["train"][:, 0])
        rank_t = rankdata(-imp["train"][:, 0], method="min")
        rank_s = rankdata(-imp["synthetic"][:, 0], method="min")
        table = [
            {
                "feature": feats[j],
                "importance_train": float(imp["train"][j, 0]),
                "importance_synthetic": float(imp["synthetic"][j, 0]),
                "rank_train": int(rank_t[j]),
                "rank_synthetic": int(rank_s[j]),
            }
            for j in order
        ]
        top = [row["feature"] for row in table[:3]]
        top_s = [feats[j] for j in np.argsort(-imp["synthetic"][:, 0])[:3]]
        summary = (
            f"The columns the synthetic-trained model relies on, ranked against those of the real-trained model: "
            f"Spearman ρ = {s['value']:.2f} ({s['ci_low']:.2f} to {s['ci_high']:.2f}; 1 = same order); two models "
            f"trained on halves of the real data agree with ρ = {r_['value']:.2f}. Most important for the "
            f"real-trained model: {', '.join(top)}; for the synthetic-trained model: {', '.join(top_s)}."
        )
        return [
            CheckResult(
                id=_result_id(self.id, t),
                family=self.family,
                kind="utility",
                estimate=est,
                baseline=base_e,
                summary=summary,
                details={
                    **_task_details(t),
                    "definition": (
                        "Spearman rank correlation between the permutation importances (drop in "
                        f"{METRIC_NAMES[primary]} on the holdout when a column is shuffled, {self.repeats} shuffles) "
                        "of gradient boosting trained on synthetic and on train; negative values read as 0; the "
                        "baseline is the same correlation between two models trained on disjoint halves of train"
                    ),
                    "spearman": s["value"],
                    "spearman_ci_low": s["ci_low"],
                    "spearman_ci_high": s["ci_high"],
                    "spearman_reference": r_["value"],
                    "importances": table,
                    "evaluation_rows": len(rows),
                    "sampling": f"importances on {len(rows)} holdout rows (seeded sample), {self.repeats} shuffles",
                    "note": CLINICAL_NOTE,
                },
                params={"repeats": self.repeats, "evaluation_rows": len(rows), "n_bootstrap": n_boot},
                warnings=tuple(t.notes),
            )
        ]

    def _importances(
        self,
        t: _Task,
        model: Any,
        X: pd.DataFrame,
        feats: list[str],
        perms: Mapping[tuple[str, int], np.ndarray],
        W: np.ndarray,
        primary: str,
    ) -> np.ndarray:
        """Mean drop of the primary metric when each column is shuffled (rows of ``W``: resamples).

        Shuffling happens after the model's preprocessing (the columns a feature turns into are
        shuffled together), which gives the same predictions as shuffling the raw column and
        preprocesses the evaluation rows once per model.
        """
        if not hasattr(model, "named_steps"):  # a constant model uses no column
            return np.zeros((len(feats), W.shape[0]))
        pre, est = model.named_steps["pre"], model.named_steps["model"]
        Xt = np.asarray(pre.transform(X), dtype=np.float64)
        owner = _transformed_owner(pre, feats)

        def score(M: np.ndarray) -> np.ndarray:
            pred = aligned_proba(est, M, t.classes) if t.classification else np.asarray(est.predict(M), float)
            return _metric_reps(t, pred, W, metrics=(primary,))[primary]

        base = score(Xt)
        drops = np.zeros((len(feats), W.shape[0]))
        for j, f in enumerate(feats):
            cols = owner.get(f, [])
            if not cols:
                continue
            for r in range(self.repeats):
                Xp = Xt.copy()
                Xp[:, cols] = Xt[perms[(f, r)]][:, cols]
                drops[j] += base - score(Xp)
        return np.nan_to_num(drops / self.repeats)


def _transformed_owner(pre: ColumnTransformer, feats: list[str]) -> dict[str, list[int]]:
    """For each raw column, the output columns of the fitted preprocessing that come from it."""
    out: dict[str, list[int]] = {}
    names = [str(n) for n in pre.get_feature_names_out()]
    known = set(feats)
    for i, name in enumerate(names):
        raw = name.split("__", 1)[1] if "__" in name else name
        if raw.startswith("missingindicator_"):
            raw = raw[len("missingindicator_") :]
        if raw in known:
            out.setdefault(raw, []).append(i)
    return out


def _sub_task(t: _Task, rows: np.ndarray) -> _Task:
    """The task with its holdout restricted to ``rows`` (for metrics on a subsample)."""
    y = dict(t.y)
    y["holdout"] = t.y["holdout"][rows]
    return _Task(t.target, t.kind, t.numeric, t.categorical, t.X, y, t.classes, t.positive, t.dropped, t.notes)


# ----------------------------------------------------------------------------------------------
# subgroups


def _band_label(lo: float, hi: float) -> str:
    if np.isinf(lo):
        return f"< {hi:.4g}"
    if np.isinf(hi):
        return f"≥ {lo:.4g}"
    return f"{lo:.4g} – {hi:.4g}"


@register
class SubgroupUtility:
    """TSTR against TRTR within each group of the quasi-identifier and sensitive columns.

    References
    ----------
    K. Bhanot, M. Qi, J. S. Erickson, I. Guyon and K. P. Bennett, "The problem of fairness in
    synthetic healthcare data", Entropy 23 (2021) 1165.
    """

    id: ClassVar[str] = "utility.subgroups"
    family: ClassVar[str] = "utility"
    help: ClassVar[str] = (
        "TSTR vs TRTR per group of each quasi-identifier or sensitive column (e.g. per sex), flagging "
        "groups where the synthetic-trained model is clearly worse."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "target"})
    margin: ClassVar[float] = 0.02

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = _task(ctx)
        schema = ctx.schema
        cols = [c for c in dict.fromkeys([*schema.quasi_identifiers, *schema.sensitive]) if c != t.target]
        if not cols:
            raise CheckSkipped("needs quasi-identifier or sensitive columns (--qi, --sensitive) to form groups")
        k = ctx.settings.rare_k
        min_rows = max(50, 5 * k)
        models = _models(ctx)
        W = _holdout_weights(ctx)
        conf = ctx.settings.confidence
        primary = _primary(t)
        ho = t.X["holdout"]
        tr = t.X["train"]
        overall = {src: _metric_reps(t, models[("boosting", src)].pred, W)[primary] for src in ("synthetic", "train")}
        overall_gap = overall["synthetic"] - overall["train"]
        groups: list[dict[str, Any]] = []
        skipped = 0
        for c in cols:
            for label, mask in self._groups(c, schema.kind(c), tr[c], ho[c], k):
                rows = np.flatnonzero(mask)
                if rows.size < min_rows:
                    skipped += 1
                    continue
                m = {src: _metric_reps(t, models[("boosting", src)].pred, W, rows)[primary] for src in overall}
                if not (np.isfinite(m["synthetic"][0]) and np.isfinite(m["train"][0])):
                    skipped += 1
                    continue
                gap = m["synthetic"] - m["train"]
                g = _summ(gap, conf)
                vs = _summ(gap - overall_gap, conf)
                groups.append(
                    {
                        "column": c,
                        "group": label,
                        "rows": int(rows.size),
                        "synthetic": _summ(m["synthetic"], conf),
                        "train": _summ(m["train"], conf),
                        "gap": g,
                        "gap_vs_overall": vs,
                        "clearly_worse": bool(g["ci_high"] < -self.margin),
                        "worse_than_overall": bool(vs["ci_high"] < 0),
                    }
                )
        if not groups:
            raise CheckSkipped(f"no group of the quasi-identifier or sensitive columns has {min_rows} holdout rows")
        # the group with the strongest evidence of a large loss (lowest upper end of the gap's interval),
        # not the lowest point value, which is usually the smallest, noisiest group
        worst = min(groups, key=lambda g: (g["gap"]["ci_high"], g["gap"]["value"]))
        n_ho = int(worst["rows"])
        pm = METRIC_NAMES[primary]
        method = f"{pm} in the group, bootstrap percentile interval ({W.shape[0] - 1} resamples of holdout rows)"
        est = _unit_estimate(worst["synthetic"], conf, n_ho, method)
        base = _unit_estimate(worst["train"], conf, n_ho, method)
        flagged = [g for g in groups if g["clearly_worse"]]
        unequal = [g for g in groups if g["worse_than_overall"]]
        summary = (
            f"Across {len(groups)} groups, the synthetic-trained model falls most clearly behind for "
            f"{worst['column']} = {worst['group']} ({pm} {worst['synthetic']['value']:.3f} against "
            f"{worst['train']['value']:.3f} for the real-trained model). {len(flagged)} groups are clearly worse "
            f"(the whole interval of the gap below −{self.margin}); {len(unequal)} fall behind more than the "
            "population as a whole."
        )
        return [
            CheckResult(
                id=_result_id(self.id, t),
                family=self.family,
                kind="utility",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    **_task_details(t),
                    "definition": (
                        f"{pm} on the holdout rows of the group where gradient boosting trained on synthetic falls "
                        "most clearly behind the same model trained on train (the baseline): the group whose "
                        "interval of the gap reaches least high"
                    ),
                    "primary_metric": primary,
                    "groups": groups,
                    "groups_evaluated": len(groups),
                    "groups_too_small": skipped,
                    "groups_clearly_worse": len(flagged),
                    "groups_worse_than_overall": len(unequal),
                    "overall_gap": _summ(overall_gap, conf),
                    "rule": (
                        f"a group is clearly worse when the interval of (TSTR − TRTR) in it lies below −{self.margin}; "
                        "worse than overall when the interval of its gap minus the overall gap lies below 0; groups "
                        f"with fewer than {min_rows} holdout rows, or where the metric is undefined, are not "
                        "evaluated; numeric columns are split at the quartiles of train"
                    ),
                    "note": CLINICAL_NOTE,
                },
                params={"n_bootstrap": W.shape[0] - 1, "min_rows": min_rows, "margin": self.margin},
                warnings=tuple(t.notes),
            )
        ]

    @staticmethod
    def _groups(col: str, kind: str, train: pd.Series, holdout: pd.Series, k: int) -> list[tuple[str, np.ndarray]]:
        if kind in ("numeric", "datetime"):
            v = train.to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if v.size == 0:
                return []
            edges = np.unique(np.quantile(v, [0.25, 0.5, 0.75]))
            bounds = np.concatenate([[-np.inf], edges, [np.inf]])
            h = holdout.to_numpy(dtype=float)
            out = []
            for lo, hi in itertools.pairwise(bounds):
                mask = np.isfinite(h) & (h >= lo) & (h < hi)
                out.append((_band_label(lo, hi), mask))
            return out
        counts = train.value_counts()
        return [(str(c), (holdout == c).to_numpy()) for c in counts.index if counts[c] >= k]


# ----------------------------------------------------------------------------------------------
# analysis agreement (Karr et al. 2006)


def ci_overlap(lo1: np.ndarray, hi1: np.ndarray, lo2: np.ndarray, hi2: np.ndarray) -> np.ndarray:
    """Confidence-interval overlap: the mean of the shares of each interval covered by their intersection.

    ``J = ½ [(U − L) / (hi1 − lo1) + (U − L) / (hi2 − lo2)]`` with ``L = max(lo1, lo2)`` and
    ``U = min(hi1, hi2)``: 1 for identical intervals, 0 when they just touch, negative when they are
    apart (the distance relative to their widths).

    References
    ----------
    A. F. Karr, C. N. Kohnen, A. Oganian, J. P. Reiter and A. P. Sanil, "A framework for evaluating
    the utility of data altered to protect confidentiality", The American Statistician 60 (2006)
    224-232.
    """
    lo1, hi1, lo2, hi2 = (np.asarray(x, dtype=np.float64) for x in (lo1, hi1, lo2, hi2))
    inter = np.minimum(hi1, hi2) - np.maximum(lo1, lo2)
    w1 = np.maximum(hi1 - lo1, 1e-300)
    w2 = np.maximum(hi2 - lo2, 1e-300)
    return 0.5 * (inter / w1 + inter / w2)


@dataclass
class _Design:
    names: list[str]
    build: Callable[[pd.DataFrame], np.ndarray]
    excluded: list[str]


def _design(t: _Task, k: int) -> _Design:
    """Regression design fitted on train: standardised numbers, dummies of frequent categories."""
    tr = t.X["train"]
    names = ["(intercept)"]
    steps: list[Callable[[pd.DataFrame], list[np.ndarray]]] = []
    excluded = []
    for c in t.numeric:
        v = tr[c].to_numpy(dtype=float)
        ok = np.isfinite(v)
        if ok.sum() < 2 or np.nanstd(v) == 0:
            excluded.append(c)
            continue
        med, mu, sd = float(np.median(v[ok])), float(v[ok].mean()), float(v[ok].std())
        indicator = int((~ok).sum()) >= k
        names.append(c)
        if indicator:
            names.append(f"{c} (missing)")

        def num_step(df: pd.DataFrame, c: str = c, med: float = med, mu: float = mu, sd: float = sd,
                     indicator: bool = indicator) -> list[np.ndarray]:  # fmt: skip
            x = df[c].to_numpy(dtype=float)
            miss = ~np.isfinite(x)
            cols = [(np.where(miss, med, x) - mu) / sd]
            if indicator:
                cols.append(miss.astype(float))
            return cols

        steps.append(num_step)
    for c in t.categorical:
        s = tr[c].astype(object).where(tr[c].notna(), "(missing)")
        vc = s.value_counts()
        frequent = [lev for lev in vc.index if vc[lev] >= k]
        if not frequent:
            excluded.append(c)
            continue
        levels = list(frequent[1:])  # the most frequent category is the reference level
        rare_total = int(vc[vc < k].sum())
        rare = rare_total >= k
        if not levels and not rare:
            excluded.append(c)
            continue
        names.extend(f"{c}={lev}" for lev in levels)
        if rare:
            names.append(f"{c}={RARE}")

        def cat_step(df: pd.DataFrame, c: str = c, levels: list[Any] = levels, rare: bool = rare,
                     frequent: list[Any] = frequent) -> list[np.ndarray]:  # fmt: skip
            v = df[c].astype(object).where(df[c].notna(), "(missing)")
            cols = [(v == lev).to_numpy(dtype=float) for lev in levels]
            if rare:
                cols.append((~v.isin(frequent)).to_numpy(dtype=float))
            return cols

        steps.append(cat_step)

    def build(df: pd.DataFrame) -> np.ndarray:
        cols = [np.ones(len(df))]
        for st in steps:
            cols.extend(st(df))
        return np.column_stack(cols)

    return _Design(names, build, excluded)


def _fit_ols(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares with standard errors ``sqrt(diag(σ² (XᵀX)⁻¹))`` (a tiny ridge keeps it solvable)."""
    n, p = X.shape
    xtx = X.T @ X + 1e-8 * np.eye(p) * max(1.0, float(np.trace(X.T @ X)) / p)
    beta = np.linalg.solve(xtx, X.T @ y)
    resid: np.ndarray = y - X @ beta
    sigma2 = float(resid @ resid) / max(n - p, 1)
    cov = sigma2 * np.linalg.pinv(xtx)
    return beta, np.sqrt(np.maximum(np.diag(cov), 0.0))


def _fit_logit(X: np.ndarray, y: np.ndarray, max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression by Newton-Raphson (IRLS), standard errors from the inverse information.

    References
    ----------
    P. McCullagh and J. A. Nelder, *Generalized Linear Models*, 2nd ed., Chapman & Hall (1989),
    section 2.5.
    """
    n, p = X.shape
    beta = np.zeros(p)
    ridge = 1e-6 * n * np.eye(p)
    ridge[0, 0] = 0.0
    info = np.eye(p)
    for _ in range(max_iter):
        mu = expit(X @ beta)
        w = np.clip(mu * (1 - mu), 1e-10, None)
        info = X.T @ (X * w[:, None]) + ridge
        grad = X.T @ (y - mu) - ridge @ beta
        step = np.linalg.lstsq(info, grad, rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            break
    cov = np.linalg.pinv(info)
    return beta, np.sqrt(np.maximum(np.diag(cov), 0.0))


@register
class AnalysisAgreement:
    """Regression coefficients fitted on synthetic and on train: confidence-interval overlap.

    References
    ----------
    Karr et al. (2006), see :func:`ci_overlap`; McCullagh and Nelder (1989) for the logistic fit.
    """

    id: ClassVar[str] = "utility.analysis"
    family: ClassVar[str] = "utility"
    help: ClassVar[str] = (
        "Regression of the target on the other columns fitted on synthetic and on train: mean "
        "confidence-interval overlap of the coefficients (Karr et al. 2006), next to holdout vs train."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "target"})

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = _task(ctx)
        k = ctx.settings.rare_k
        design = _design(t, k)
        if len(design.names) < 2:
            raise CheckSkipped("no column besides the target can enter the regression")
        rng = ctx.rng
        n_ho, n_sy = len(t.y["holdout"]), len(t.y["synthetic"])
        m = min(n_ho, n_sy)
        sy_rows = np.sort(rng.choice(n_sy, m, replace=False)) if n_sy > m else np.arange(n_sy)
        ho_rows = np.sort(rng.choice(n_ho, m, replace=False)) if n_ho > m else np.arange(n_ho)
        if t.kind == "regression":
            response = f"{t.target} (linear regression, least squares)"

            def resp(role: str) -> np.ndarray:
                return np.asarray(t.y[role], dtype=float)

            fit = _fit_ols
        else:
            if t.kind == "binary":
                level = t.positive
            else:
                vals, cnt = np.unique(t.y["train"], return_counts=True)
                level = str(vals[np.argmax(cnt)])
            response = f"{t.target} = {level} (logistic regression" + (
                ", the most frequent class against the rest)" if t.kind == "multiclass" else ")"
            )

            def resp(role: str) -> np.ndarray:
                return (t.y[role] == level).astype(float)

            fit = _fit_logit
        z = float(norm.ppf(0.5 + ctx.settings.confidence / 2))
        fits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        constant: list[str] = []
        for role, rows in (("train", None), ("synthetic", sy_rows), ("holdout", ho_rows)):
            X = design.build(t.X[role] if rows is None else t.X[role].iloc[rows])
            y = resp(role) if rows is None else resp(role)[rows]
            if np.unique(y).size < 2:
                constant.append(role)
                p = X.shape[1]
                fits[role] = (np.zeros(p), np.full(p, np.inf))
                continue
            with quiet_fit(threads=None):
                fits[role] = fit(X, y)
        if "train" in constant:
            raise CheckSkipped("the target has a single value in the training data")
        b_tr, se_tr = fits["train"]
        conf = ctx.settings.confidence
        n_boot = int(ctx.settings.n_bootstrap)
        slopes = slice(1, None)

        def overlaps(role: str, draws: int) -> tuple[np.ndarray, np.ndarray]:
            b, se = fits[role]
            if role in constant:
                return np.zeros(len(b) - 1), np.zeros(draws)
            point = ci_overlap(b_tr - z * se_tr, b_tr + z * se_tr, b - z * se, b + z * se)[slopes]
            e1 = rng.standard_normal((draws, len(b)))
            e2 = rng.standard_normal((draws, len(b)))
            bt = b_tr + e1 * se_tr
            bo = b + e2 * se
            reps = ci_overlap(bt - z * se_tr, bt + z * se_tr, bo - z * se, bo + z * se)[:, slopes]
            return point, np.clip(reps, 0, None).mean(axis=1)

        ov, ov_reps = overlaps("synthetic", n_boot)
        ov_ref, ov_ref_reps = overlaps("holdout", n_boot)
        value, ref = float(np.clip(ov, 0, None).mean()), float(np.clip(ov_ref, 0, None).mean())
        method = (
            "mean CI overlap (negative read as 0), normal interval with SE from a parametric bootstrap of the "
            f"coefficients' sampling distributions ({n_boot} draws)"
        )
        est = _unit_estimate(_normal(value, ov_reps, conf), conf, m, method)
        base = _unit_estimate(_normal(ref, ov_ref_reps, conf), conf, m, method)
        coefs = []
        for j, name in enumerate(design.names):
            row: dict[str, Any] = {"name": name}
            for role in ("train", "synthetic", "holdout"):
                b, se = fits[role]
                row[role] = {"beta": float(b[j]), "ci_low": float(b[j] - z * se[j]), "ci_high": float(b[j] + z * se[j])}
            if j > 0:
                row["overlap"] = float(ov[j - 1])
                row["overlap_reference"] = float(ov_ref[j - 1])
            coefs.append(row)
        worst = sorted(coefs[1:], key=lambda r: r["overlap"])[:3]
        summary = (
            f"Fitting {response} on the synthetic data and on train, the {len(design.names) - 1} coefficients' "
            f"{conf:.0%} confidence intervals overlap by {value:.2f} on average (1 = identical); a fit on real "
            f"holdout rows overlaps by {ref:.2f}. Least overlap: "
            + ", ".join(f"{r['name']} ({r['overlap']:.2f})" for r in worst)
            + "."
        )
        notes = list(t.notes)
        if "synthetic" in constant:
            notes.append("the synthetic response has a single value: the regression cannot be fitted on it")
        return [
            CheckResult(
                id=_result_id(self.id, t),
                family=self.family,
                kind="utility",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    **_task_details(t),
                    "definition": (
                        "mean over the regression's coefficients (intercept aside) of the confidence-interval "
                        "overlap between the fits on synthetic and on train (Karr et al. 2006), negative overlaps "
                        "read as 0; the baseline compares a fit on holdout rows with the fit on train"
                    ),
                    "response": response,
                    "coefficients": coefs,
                    "excluded_columns": design.excluded,
                    "rows_fitted": {"train": len(t.y["train"]), "synthetic": m, "holdout": m},
                    "encoding": (
                        "numbers standardised with the mean and standard deviation of train (a coefficient is "
                        "per standard deviation), missing numbers imputed with the train median; categories "
                        f"seen at least {k} times in train get a dummy against the most frequent one, the rest "
                        "share one '(rare)' dummy"
                    ),
                    "sampling": f"synthetic and holdout fitted on {m} rows each (seeded sample of the larger)",
                    "note": CLINICAL_NOTE,
                },
                params={"n_bootstrap": n_boot},
                warnings=tuple(notes),
            )
        ]


# ----------------------------------------------------------------------------------------------
# transfer: start on synthetic, finish on real


class _Pretrained:
    """A fitted model used as the starting point of boosting: ``fit`` does nothing.

    ``classes`` are the labels the boosting stage will see (in its order), so the probabilities
    line up even when the real budget lacks a class or has one the synthetic data never showed.
    """

    def __init__(self, model: Any, classes: np.ndarray | None = None) -> None:
        self.model = model
        self.classes = classes

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _Pretrained:
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.model.predict(X), dtype=np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        assert self.classes is not None
        p = aligned_proba(self.model, X, self.classes)
        p = np.clip(p, 1e-6, None)
        return p / p.sum(axis=1, keepdims=True)


def real_rows_saved(budgets: Sequence[int], scratch: Sequence[float], warm: float, budget: int) -> tuple[float, bool]:
    """How many real rows the real-only model needs to match ``warm``, minus ``budget``.

    The real-only learning curve (score against number of real rows) is made monotone (running
    maximum) and interpolated linearly in log(rows). Returns ``(rows saved, is_lower_bound)``: 0
    when the pre-trained model is no better than the real-only one at the same budget; a lower
    bound when it beats the real-only model at every budget measured.
    """
    b = np.asarray(budgets, dtype=float)
    s = np.maximum.accumulate(np.asarray(scratch, dtype=float))
    at = float(np.interp(np.log(budget), np.log(b), s))
    if not np.isfinite(warm) or warm <= at:
        return 0.0, False
    if warm > s[-1]:
        return float(b[-1] - budget), True
    i = int(np.searchsorted(s, warm))  # first budget whose score reaches warm
    if i == 0:
        return 0.0, False
    x0, x1, y0, y1 = np.log(b[i - 1]), np.log(b[i]), s[i - 1], s[i]
    x = x1 if y1 == y0 else x0 + (warm - y0) / (y1 - y0) * (x1 - x0)
    return max(0.0, float(np.exp(x)) - budget), False


@register
class Transfer:
    """Start on synthetic, finish on real: pre-training on synthetic against real data alone.

    The pre-trained arm continues gradient boosting from the synthetic-trained model's
    predictions (its initial estimate), fitting further trees to the real rows; the real-only arm
    runs the same boosting from the class shares (or the mean).

    References
    ----------
    J. H. Friedman, "Greedy function approximation: a gradient boosting machine", Annals of
    Statistics 29 (2001) 1189-1232 (boosting from an initial estimate).
    """

    id: ClassVar[str] = "utility.transfer"
    family: ClassVar[str] = "utility"
    help: ClassVar[str] = (
        "Start on synthetic, finish on real: boosting on a 1/5/20 % real budget alone vs pre-trained on "
        "synthetic then trained further on it; learning curve and real rows saved."
    )
    requires: ClassVar[frozenset[str]] = frozenset({"holdout", "target"})
    fractions: ClassVar[tuple[float, ...]] = (0.01, 0.05, 0.2)
    repeats: ClassVar[tuple[int, ...]] = (3, 3, 2)
    min_rows: ClassVar[int] = 20

    def run(self, ctx: AuditContext) -> list[CheckResult]:
        t = _task(ctx)
        models = _models(ctx)
        pre = models[("boosting", "synthetic")]
        rng = ctx.rng
        n_tr = len(t.y["train"])
        budgets: list[int] = []
        reps_for: list[int] = []
        for f, r in zip(self.fractions, self.repeats, strict=True):
            nb = int(min(n_tr, max(self.min_rows, round(f * n_tr))))
            if nb not in budgets:
                budgets.append(nb)
                reps_for.append(r)
        W = _holdout_weights(ctx)
        primary = _primary(t)
        conf = ctx.settings.confidence
        notes = list(t.notes)
        if pre.constant or not hasattr(pre.model, "named_steps"):
            notes.append("the synthetic-trained model is constant: pre-training on synthetic adds nothing")
        curves: dict[str, list[np.ndarray]] = {"real_only": [], "pretrained": []}
        spread: dict[str, list[np.ndarray]] = {"real_only": [], "pretrained": []}
        for nb, n_rep in zip(budgets, reps_for, strict=True):
            got: dict[str, list[np.ndarray]] = {"real_only": [], "pretrained": []}
            for _ in range(n_rep):
                rows = np.sort(rng.choice(n_tr, nb, replace=False))
                X, y = t.X["train"].iloc[rows].reset_index(drop=True), t.y["train"][rows]
                seed = seed_from(rng)
                for arm in got:
                    pred = self._arm(arm, t, pre, X, y, seed)
                    got[arm].append(_metric_reps(t, pred, W)[primary])
            for arm, vals in got.items():
                stack = np.vstack(vals)  # (repeats, 1 + n_boot)
                curves[arm].append(stack.mean(axis=0))
                spread[arm].append(stack[:, 0])
        points: dict[str, list[dict[str, float]]] = {}
        for arm in curves:
            points[arm] = []
            for c, sp in zip(curves[arm], spread[arm], strict=True):
                boot = c[1:][np.isfinite(c[1:])]
                var = (np.var(boot, ddof=1) if boot.size > 1 else 0.0) + (
                    np.var(sp, ddof=1) / sp.size if sp.size > 1 else 0.0
                )
                zq = float(norm.ppf(0.5 + conf / 2))
                half = zq * math.sqrt(var)
                points[arm].append({"value": float(c[0]), "ci_low": float(c[0] - half), "ci_high": float(c[0] + half)})
        scratch = [p["value"] for p in points["real_only"]]
        saved = []
        for i, nb in enumerate(budgets):
            rows_saved, lower = real_rows_saved(budgets, scratch, points["pretrained"][i]["value"], nb)
            saved.append({"budget_rows": nb, "rows_saved": round(rows_saved), "at_least": lower})
        head = 1 if len(budgets) > 1 else 0
        pm = METRIC_NAMES[primary]
        method = (
            f"{pm} on the holdout, mean over repeated real budgets; normal interval with SE from holdout bootstrap "
            f"({W.shape[0] - 1}) and between-repeat variance"
        )
        est = _unit_estimate(points["pretrained"][head], conf, len(t.y["holdout"]), method)
        base = _unit_estimate(points["real_only"][head], conf, len(t.y["holdout"]), method)
        full = {
            "trtr": float(_metric_reps(t, models[("boosting", "train")].pred, W[:1])[primary][0]),
            "tstr": float(_metric_reps(t, pre.pred, W[:1])[primary][0]),
        }
        s_head = saved[head]
        share = budgets[head] / n_tr
        summary = (
            f"With {budgets[head]} real rows ({share:.0%} of train), a model pre-trained on the synthetic data and "
            f"then trained further on them reaches {pm} {points['pretrained'][head]['value']:.3f}; the same model on "
            f"the real rows alone {points['real_only'][head]['value']:.3f}. "
            + (
                f"Pre-training is worth {'at least ' if s_head['at_least'] else 'about '}"
                f"{s_head['rows_saved']} more real rows."
                if s_head["rows_saved"] > 0
                else "The pre-trained model beats the real-only one even at the largest budget measured."
                if s_head["at_least"]
                else "Pre-training on synthetic saves no real rows at this budget."
            )
        )
        return [
            CheckResult(
                id=_result_id(self.id, t),
                family=self.family,
                kind="utility",
                estimate=est,
                baseline=base,
                summary=summary,
                details={
                    **_task_details(t),
                    "definition": (
                        f"{pm} on the holdout of a model pre-trained on synthetic and trained further on "
                        f"{budgets[head]} real rows; the baseline is the same model trained on those rows alone"
                    ),
                    "primary_metric": primary,
                    "budgets": budgets,
                    "budget_shares": [b / n_tr for b in budgets],
                    "repeats": reps_for,
                    "real_only": points["real_only"],
                    "pretrained": points["pretrained"],
                    "real_rows_saved": saved,
                    "full_train_score": full["trtr"],
                    "synthetic_only_score": full["tstr"],
                    "headline_budget": budgets[head],
                    "method": (
                        "gradient boosting (scikit-learn GradientBoosting, 200 trees of depth 3 at most, learning "
                        "rate 0.1, early stopping on 20 % of the budget when it is large enough); 'pre-trained' "
                        "starts from the synthetic-trained boosting model's predictions and fits its trees to "
                        "the real rows (boosting continued), 'real only' starts from the class shares (or mean); "
                        "real rows saved = how many more real rows the real-only model needs to match the "
                        "pre-trained one (learning curve interpolated in log rows)"
                    ),
                    "note": CLINICAL_NOTE,
                },
                params={"budgets": budgets, "repeats": reps_for, "n_bootstrap": W.shape[0] - 1},
                warnings=tuple(notes),
            )
        ]

    @staticmethod
    def _arm(arm: str, t: _Task, pre: _Fitted, X: pd.DataFrame, y: np.ndarray, seed: int) -> np.ndarray:
        """Fit one arm on the real budget and predict the holdout."""
        classes = np.unique(y) if t.classification else None
        pretrained = arm == "pretrained" and not pre.constant and hasattr(pre.model, "named_steps")
        if pretrained:
            prep: ColumnTransformer = pre.model.named_steps["pre"]
            init: Any = _Pretrained(pre.model.named_steps["model"], classes)
        else:
            prep = boosting_preprocessor(t.numeric, t.categorical)
            init = None
        if t.classification and classes is not None and classes.size < 2:
            # one class in the budget: nothing to boost; the real-only model predicts it
            if pretrained:
                with quiet_fit():
                    return _predict(pre.model, t, t.X["holdout"])
            out = np.zeros((len(t.y["holdout"]), len(t.classes)))
            out[:, int(np.searchsorted(t.classes, classes[0]))] = 1.0
            return out
        counts = np.unique(y, return_counts=True)[1] if t.classification else None
        early = len(y) >= 100 and (counts is None or counts.min() >= 5)
        kw: dict[str, Any] = {
            "n_estimators": 200 if early else 50,
            "max_depth": 3,
            "learning_rate": 0.1,
            "subsample": 0.8,
            "random_state": seed,
            "init": init,
        }
        if early:
            kw.update(n_iter_no_change=10, validation_fraction=0.2)
        model: Any = GradientBoostingRegressor(**kw) if t.kind == "regression" else GradientBoostingClassifier(**kw)
        with quiet_fit():
            Xt = prep.transform(X) if pretrained else prep.fit_transform(X)
            model.fit(Xt, y)
            Xh = prep.transform(t.X["holdout"])
            if t.classification:
                p = model.predict_proba(Xh)
                out = np.zeros((len(Xh), len(t.classes)))
                for k_, c in enumerate(model.classes_):
                    out[:, int(np.searchsorted(t.classes, c))] = p[:, k_]
                return out
            return np.asarray(model.predict(Xh), dtype=np.float64)
