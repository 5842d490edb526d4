"""``bayesian-network``: a PrivBayes-style Bayesian network of degree k, optionally ε-DP.

Every column is discretised (:mod:`synthguard.generators._discretise`: quantile bins with atoms
for numbers and dates, one cell per category, a missing cell). The network is built greedily
(Zhang, Cormode, Procopiuc, Srivastava & Xiao, SIGMOD 2014 / TODS 2017, Algorithm 2 / 4): the
first attribute is chosen at random; then, as long as attributes are left, among all pairs
(attribute X not yet in the network, parent set Π of ``min(k, |V|)`` attributes already in it) the
pair with the largest mutual information I(X; Π) joins. Synthetic rows are drawn by ancestral
sampling: the first ``k + 1`` attributes jointly from their joint table, every later attribute from
its conditional table given its parents, then values within cells.

With ``epsilon`` set, the budget is split by ``beta`` (default 0.3, as recommended in the paper):

- structure, ``ε₁ = β ε``: each of the ``d - 1`` choices is an exponential mechanism (McSherry &
  Talwar 2007) with score I(X; Π) in bits and its sensitivity from the paper's Lemma 4.1:
  ``Δ = (1/n) log₂ n + ((n-1)/n) log₂ (n/(n-1))`` when X or Π is binary, else
  ``Δ = (2/n) log₂ ((n+1)/2) + ((n-1)/n) log₂ ((n+1)/(n-1))``; each choice gets ``ε₁ / (d-1)``;
- parameters, ``ε₂ = (1 - β) ε``: the ``d - k`` count tables of (X_i, Π_i) for ``i = k+1 .. d``
  (the first ``k`` conditionals follow from table ``k + 1``) get Laplace noise of scale
  ``2 (d - k) / ε₂`` per cell (a replaced record moves one count down and one up: L1 sensitivity 2
  per table), negative counts are set to 0 and the tables normalised.

By sequential composition the whole is ε-DP for neighbouring tables of the *same size* n
(replace-one / bounded DP, with n public), as in PrivBayes. **Exact only with a public
domain**: as for ``dp-histogram``, cells derived from the data (bin edges, atoms, category lists,
missing cells, integrality) are themselves a function of the private table; pass ``domain=`` for
every column (see :mod:`synthguard.generators._discretise`) to make the guarantee hold for the
release and not just for the discretised data given its cells. :meth:`BayesianNetwork.privacy`
says which case applies. PrivBayes also chooses the degree from a usefulness criterion θ; here the
degree is a parameter.

References
----------
Zhang, J., Cormode, G., Procopiuc, C. M., Srivastava, D., Xiao, X. (2017). PrivBayes: private data
release via Bayesian networks. ACM TODS 42(4) (SIGMOD 2014). · McSherry, F., Talwar, K. (2007).
Mechanism design via differential privacy. FOCS. · Dwork, C., Roth, A. (2014). The algorithmic
foundations of differential privacy (composition, Thm. 3.16).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthguard.errors import InputError
from synthguard.generators._common import check_fitted, check_n, empty_table_error, positive_float, positive_int
from synthguard.generators._discretise import BINNINGS, Discretiser

__all__ = ["BayesianNetwork", "mi_sensitivity", "mutual_information"]


def mutual_information(x: np.ndarray, x_size: int, parents: np.ndarray, parent_size: int) -> float:
    """Empirical mutual information I(X; Π) in bits of two code vectors."""
    n = len(x)
    if n == 0:
        return 0.0
    joint = np.bincount(x * parent_size + parents, minlength=x_size * parent_size).reshape(x_size, parent_size)
    p = joint / n
    px = p.sum(axis=1, keepdims=True)
    pp = p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log2(p[nz] / (px @ pp)[nz])))


def mi_sensitivity(n: int, binary: bool) -> float:
    """Sensitivity of I(X; Π) in bits between tables of n records differing in one (PrivBayes Lemma 4.1)."""
    if n <= 1:
        return 1.0
    if binary:
        return (1 / n) * math.log2(n) + ((n - 1) / n) * math.log2(n / (n - 1))
    return (2 / n) * math.log2((n + 1) / 2) + ((n - 1) / n) * math.log2((n + 1) / (n - 1))


@dataclass
class _Conditional:
    attr: int
    parents: tuple[int, ...]
    cdf: np.ndarray  # (parent configurations, attribute cells), rows are cumulative distributions


class BayesianNetwork:
    """PrivBayes-style Bayesian network of degree k over discretised columns, optionally ε-DP.

    Parameters
    ----------
    seed : int
        Seed of the structure search (first attribute, exponential mechanism), the noise and the draws.
    degree : int
        Maximum number of parents per attribute, k (default 2).
    epsilon : float, optional
        Privacy budget; ``None`` (default) learns without noise.
    beta : float
        Share of ε spent on the structure (default 0.3).
    bins : int
        Cells per numeric or datetime column (including atoms), where no public domain is given.
    binning : {"quantile", "uniform"}
        Data-derived cells (see :mod:`synthguard.generators._discretise`).
    domain : mapping, optional
        Public, data-independent cells per column; needed for an exact ε.
    max_cells : int
        Refuse a conditional table larger than this (lower the degree or the bins).

    References
    ----------
    Zhang et al. (2017), PrivBayes; see :mod:`synthguard.generators.bayesnet`.
    """

    def __init__(
        self,
        seed: int = 0,
        degree: int = 2,
        epsilon: float | None = None,
        beta: float = 0.3,
        bins: int = 10,
        binning: str = "quantile",
        domain: Mapping[str, Any] | None = None,
        max_cells: int = 2_000_000,
    ) -> None:
        self.seed = seed
        self.degree = positive_int(degree, "degree", minimum=0)
        self.epsilon = None if epsilon is None else positive_float(epsilon, "epsilon")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not 0 < beta < 1:
            raise ValueError(f"beta must be a number in (0, 1), got {beta!r}")
        self.beta = float(beta)
        self.bins = positive_int(bins, "bins")
        if binning not in BINNINGS:
            raise ValueError(f"binning must be one of {', '.join(BINNINGS)}, got {binning!r}")
        if domain is not None and not isinstance(domain, Mapping):
            raise ValueError("domain must be a mapping from column names to their public cells")
        self.binning = binning
        self.domain = dict(domain) if domain is not None else None
        self.max_cells = positive_int(max_cells, "max_cells")
        self._rng = np.random.default_rng(seed)
        self._disc: Discretiser | None = None
        self._root: tuple[tuple[int, ...], np.ndarray] | None = None
        self._conditionals: list[_Conditional] = []
        self.network: list[tuple[str, tuple[str, ...]]] = []

    # ---------------------------------------------------------------------------------- structure

    def _structure(self, codes: np.ndarray, sizes: tuple[int, ...]) -> list[tuple[int, tuple[int, ...]]]:
        n, d = codes.shape
        first = int(self._rng.integers(d))
        order: list[tuple[int, tuple[int, ...]]] = [(first, ())]
        in_net = [first]
        mi_cache: dict[tuple[int, tuple[int, ...]], float] = {}
        eps_step = self.beta * self.epsilon / max(d - 1, 1) if self.epsilon is not None else None
        while len(in_net) < d:
            size = min(self.degree, len(in_net))
            candidates: list[tuple[int, tuple[int, ...]]] = []
            scores: list[float] = []
            binary: list[bool] = []
            for x in range(d):
                if x in in_net:
                    continue
                for parents in itertools.combinations(sorted(in_net), size):
                    psize = math.prod(sizes[p] for p in parents)
                    if sizes[x] * psize > self.max_cells:
                        continue
                    key = (x, parents)
                    if key not in mi_cache:
                        pcode = _ravel(codes, parents, sizes)
                        mi_cache[key] = mutual_information(codes[:, x], sizes[x], pcode, psize)
                    candidates.append(key)
                    scores.append(mi_cache[key])
                    binary.append(sizes[x] <= 2 or psize <= 2)
            if not candidates:
                raise InputError(
                    f"generator 'bayesian-network': every conditional table would exceed max_cells={self.max_cells}: "
                    "lower the degree or the bins, or raise max_cells"
                )
            s = np.array(scores)
            if eps_step is None:
                pick = int(np.argmax(s))  # ties: the first candidate (a deterministic order)
            else:
                delta = np.array([mi_sensitivity(n, b) for b in binary])
                logits = eps_step * s / (2 * delta)
                w = np.exp(logits - logits.max())
                pick = int(self._rng.choice(len(candidates), p=w / w.sum()))
            x, parents = candidates[pick]
            order.append((x, parents))
            in_net.append(x)
        return order

    # ---------------------------------------------------------------------------------- fit

    def fit(self, data: pd.DataFrame) -> BayesianNetwork:
        """Discretise, learn the network (privately with ``epsilon``), and estimate its tables."""
        if len(data) == 0 and (self.domain is None or set(self.domain) != set(data.columns)):
            raise empty_table_error("bayesian-network")
        disc = Discretiser.fit(
            data, bins=self.bins, binning=self.binning, domain=self.domain, generator="generator 'bayesian-network'"
        )
        codes = disc.encode(data)
        sizes = disc.sizes
        d = len(sizes)
        self._disc = disc
        self._conditionals = []
        self.network = []
        if d == 0:
            self._root = ((), np.ones(1))
            return self
        order = self._structure(codes, sizes)
        self.network = [(disc.columns[x], tuple(disc.columns[p] for p in ps)) for x, ps in order]
        k_root = min(self.degree + 1, d)
        root_attrs = tuple(x for x, _ in order[:k_root])
        n_tables = d - k_root + 1
        scale = 2.0 * n_tables / ((1 - self.beta) * self.epsilon) if self.epsilon is not None else 0.0
        root_size = math.prod(sizes[a] for a in root_attrs)
        if root_size > self.max_cells:
            raise InputError(
                f"generator 'bayesian-network': the joint table of the first {k_root} attributes has {root_size} "
                f"cells, more than max_cells={self.max_cells}: lower the degree or the bins"
            )
        root = self._noisy_counts(_ravel(codes, root_attrs, sizes), root_size, scale)
        total = root.sum()
        root_cdf = np.cumsum(root / total if total > 0 else np.full(root_size, 1.0 / root_size))
        root_cdf[-1] = 1.0
        self._root = (root_attrs, root_cdf)
        for x, parents in order[k_root:]:
            psize = math.prod(sizes[p] for p in parents)
            cell = codes[:, x] * psize + _ravel(codes, parents, sizes)
            table = self._noisy_counts(cell, sizes[x] * psize, scale).reshape(sizes[x], psize).T
            marginal = table.sum(axis=0)
            fallback = marginal / marginal.sum() if marginal.sum() > 0 else np.full(sizes[x], 1.0 / sizes[x])
            rows = table.sum(axis=1, keepdims=True)
            probs = np.where(rows > 0, table / np.where(rows > 0, rows, 1.0), fallback)
            cdf = np.cumsum(probs, axis=1)
            cdf[:, -1] = 1.0
            self._conditionals.append(_Conditional(x, parents, cdf))
        return self

    def _noisy_counts(self, cells: np.ndarray, size: int, scale: float) -> np.ndarray:
        counts = np.bincount(cells, minlength=size).astype(float)
        if scale > 0:
            counts = np.clip(counts + self._rng.laplace(0.0, scale, size=size), 0.0, None)
        return counts

    # ---------------------------------------------------------------------------------- sample

    def sample(self, n: int) -> pd.DataFrame:
        """Ancestral sampling: the root attributes jointly, then each attribute given its parents."""
        n = check_n(n)
        check_fitted(self._root, "bayesian-network")
        assert self._disc is not None and self._root is not None
        sizes = self._disc.sizes
        codes = np.zeros((n, len(sizes)), dtype=np.int64)
        root_attrs, root_cdf = self._root
        cells = np.minimum(np.searchsorted(root_cdf, self._rng.random(n), side="right"), len(root_cdf) - 1)
        if root_attrs:
            for a, c in zip(root_attrs, np.unravel_index(cells, [sizes[a] for a in root_attrs]), strict=True):
                codes[:, a] = c
        for cond in self._conditionals:
            config = _ravel(codes, cond.parents, sizes)
            u = self._rng.random(n)
            rows = cond.cdf[config]
            codes[:, cond.attr] = np.minimum((rows <= u[:, None]).sum(axis=1), cond.cdf.shape[1] - 1)
        return self._disc.decode(codes, self._rng)

    def privacy(self) -> dict[str, Any]:
        """The guarantee of the fitted model: ε (or none), the neighbouring relation, whether it is exact."""
        check_fitted(self._disc, "bayesian-network")
        assert self._disc is not None
        dependent = self._disc.data_dependent
        if self.epsilon is None:
            return {"epsilon": None, "exact": False, "mechanism": "none (not differentially private)"}
        return {
            "mechanism": "PrivBayes: exponential mechanism on mutual information + Laplace noise on conditional tables",
            "epsilon": self.epsilon,
            "epsilon_structure": self.beta * self.epsilon,
            "epsilon_parameters": (1 - self.beta) * self.epsilon,
            "delta": 0.0,
            "neighbouring": "replace one record (bounded DP, n public)",
            "exact": not dependent,
            "data_dependent_columns": dependent,
        }


def _ravel(codes: np.ndarray, attrs: tuple[int, ...], sizes: tuple[int, ...]) -> np.ndarray:
    """Mixed-radix code of the configuration of ``attrs`` in every row (0 for no attributes)."""
    out = np.zeros(codes.shape[0], dtype=np.int64)
    for a in attrs:
        out = out * sizes[a] + codes[:, a]
    return out
