"""``dp-histogram``: an ε-differentially private histogram over the full discretised domain.

The training table is discretised (see :mod:`synthguard.generators._discretise`), every record is
counted in its cell of the full domain (the product of the column cells), Laplace noise of scale
``1/ε`` is added to *every* cell (empty ones too), negative counts are set to 0, the counts are
normalised, and synthetic rows are drawn as cells from that distribution and then as values within
their cells.

Privacy accounting. Adding or removing one record changes one cell count by 1 (L1 sensitivity 1),
so one Laplace release of the whole count vector with scale ``1/ε`` is ε-differentially private
under add/remove-one neighbouring datasets (Dwork, McSherry, Nissim & Smith 2006; Dwork & Roth
2014, Thm. 3.6); clipping, normalising and sampling are post-processing (Dwork & Roth 2014, Prop.
2.1), and so is everything drawn by :meth:`DPHistogram.sample` however often it is called. Under
*replace-one* neighbouring the same mechanism is 2ε-DP. ``noise="geometric"`` uses the two-sided
geometric (discrete Laplace) mechanism instead (Ghosh, Roughgarden & Sundararajan 2009): integer
noise with the same guarantee, free of the floating-point weakness of textbook Laplace samplers
(Mironov 2012), which matters only when the noisy counts themselves are published.

**The guarantee is exact only for a public domain.** The cells must not depend on the private
data: pass ``domain=`` with every column's range (or edges) and category list. Without it, bin
edges, atoms, the category lists, whether a column has a missing cell and whether it is integral
are read from the training data, and the release is then ε-DP *given those* (a conditional
guarantee only: an outlier moves an edge). :meth:`DPHistogram.privacy` says which case applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthguard.errors import InputError
from synthguard.generators._common import check_fitted, check_n, positive_float, positive_int
from synthguard.generators._discretise import BINNINGS, Discretiser

__all__ = ["DPHistogram"]

NOISES = ("laplace", "geometric")


class DPHistogram:
    """ε-DP histogram over the discretised domain (exact ε with a public domain): the calibration generator.

    Parameters
    ----------
    seed : int
        Seed of the noise and of the draws.
    epsilon : float
        Privacy budget ε > 0 of the one noisy release (add/remove-one neighbours).
    bins : int
        Cells per numeric or datetime column (including its atoms), where no public domain is given.
    binning : {"quantile", "uniform"}
        Data-derived cells: quantile bins (default) or equal-width bins over the observed range.
    domain : mapping, optional
        Public, data-independent cells per column (see :mod:`synthguard.generators._discretise`);
        the guarantee is exact only when every column is given.
    max_cells : int
        Refuse domains larger than this (the full histogram is held in memory).
    noise : {"laplace", "geometric"}
        Laplace noise of scale 1/ε, or its discrete counterpart (two-sided geometric).

    References
    ----------
    Dwork, C., McSherry, F., Nissim, K., Smith, A. (2006). Calibrating noise to sensitivity in
    private data analysis. TCC. · Dwork, C., Roth, A. (2014). The algorithmic foundations of
    differential privacy. · Ghosh, A., Roughgarden, T., Sundararajan, M. (2009). Universally
    utility-maximizing privacy mechanisms. STOC. · Mironov, I. (2012). On significance of the least
    significant bits for differential privacy. CCS.
    """

    def __init__(
        self,
        seed: int = 0,
        epsilon: float = 1.0,
        bins: int = 10,
        binning: str = "quantile",
        domain: Mapping[str, Any] | None = None,
        max_cells: int = 1_000_000,
        noise: str = "laplace",
    ) -> None:
        self.seed = seed
        self.epsilon = positive_float(epsilon, "epsilon")
        self.bins = positive_int(bins, "bins")
        if binning not in BINNINGS:
            raise ValueError(f"binning must be one of {', '.join(BINNINGS)}, got {binning!r}")
        if noise not in NOISES:
            raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
        if domain is not None and not isinstance(domain, Mapping):
            raise ValueError("domain must be a mapping from column names to their public cells")
        self.binning = binning
        self.domain = dict(domain) if domain is not None else None
        self.max_cells = positive_int(max_cells, "max_cells")
        self.noise = noise
        fit_seed, sample_seed = np.random.SeedSequence(seed).spawn(2)
        self._fit_rng = np.random.default_rng(fit_seed)
        self._rng = np.random.default_rng(sample_seed)
        self._disc: Discretiser | None = None
        self._cdf: np.ndarray | None = None
        self.noisy_counts: np.ndarray | None = None

    def fit(self, data: pd.DataFrame) -> DPHistogram:
        """Count every record in its cell and release the counts once, with noise."""
        if len(data) == 0 and (self.domain is None or set(self.domain) != set(data.columns)):
            raise InputError("generator 'dp-histogram': cannot derive cells from a table without rows; give domain=")
        disc = Discretiser.fit(
            data, bins=self.bins, binning=self.binning, domain=self.domain, generator="generator 'dp-histogram'"
        )
        m = disc.n_cells
        if m > self.max_cells:
            raise InputError(
                f"generator 'dp-histogram': the discretised domain has {m:.3g} cells ({len(disc.sizes)} columns "
                f"with {' x '.join(map(str, disc.sizes))} cells), more than max_cells={self.max_cells}: "
                "use fewer columns or fewer bins, or raise max_cells"
            )
        codes = disc.encode(data)
        cells = np.zeros(len(data), dtype=np.int64)
        if codes.shape[1]:
            cells = np.ravel_multi_index(tuple(codes.T), disc.sizes)
        counts = np.bincount(cells, minlength=m).astype(float)
        if self.noise == "laplace":
            noisy = counts + self._fit_rng.laplace(0.0, 1.0 / self.epsilon, size=m)
        else:
            p = 1.0 - np.exp(-self.epsilon)
            noisy = counts + (self._fit_rng.geometric(p, size=m) - self._fit_rng.geometric(p, size=m))
        noisy = np.clip(noisy, 0.0, None)
        self.noisy_counts = noisy  # the one differentially private release; everything else derives from it
        total = float(noisy.sum())
        weights = noisy / total if total > 0 else np.full(m, 1.0 / m)
        cdf = np.cumsum(weights)
        cdf[-1] = 1.0
        self._disc, self._cdf = disc, cdf
        return self

    def sample(self, n: int) -> pd.DataFrame:
        """``n`` rows drawn from the noisy histogram (post-processing: no further privacy cost)."""
        n = check_n(n)
        check_fitted(self._cdf, "dp-histogram")
        assert self._disc is not None and self._cdf is not None
        cells = np.minimum(np.searchsorted(self._cdf, self._rng.random(n), side="right"), len(self._cdf) - 1)
        sizes = self._disc.sizes
        codes = np.column_stack(np.unravel_index(cells, sizes)) if sizes else np.zeros((n, 0), dtype=np.int64)
        return self._disc.decode(codes.reshape(n, len(sizes)), self._rng)

    def privacy(self) -> dict[str, Any]:
        """The guarantee of the fitted release: ε, the neighbouring relation, and whether it is exact."""
        check_fitted(self._disc, "dp-histogram")
        assert self._disc is not None
        dependent = self._disc.data_dependent
        return {
            "mechanism": f"{self.noise} noise on the full histogram, L1 sensitivity 1",
            "epsilon": self.epsilon,
            "delta": 0.0,
            "neighbouring": "add/remove one record (replace-one: 2 epsilon)",
            "exact": not dependent,
            "data_dependent_columns": dependent,
            "cells": self._disc.n_cells,
        }
