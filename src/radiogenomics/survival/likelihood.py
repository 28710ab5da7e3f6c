"""The Cox partial log-likelihood over arrays, with Efron's or Breslow's handling of ties.

R's ``coxph`` and lifelines both use Efron's method by default; this independent implementation
gives the null model's log-likelihood (no covariates, which a fitter cannot fit) and lets the
tests confirm which tie method a fitted model used.
"""

from __future__ import annotations

import numpy as np


def partial_log_likelihood(
    durations: np.ndarray,
    events: np.ndarray,
    x: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    ties: str = "efron",
) -> float:
    """Partial log-likelihood of coefficients ``beta`` for covariates ``x`` (n x k).

    With ``x`` or ``beta`` absent, the null model (every risk score 1), as R's ``loglik[1]``.
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', not {ties!r}")
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float) > 0
    if x is None or beta is None or np.size(beta) == 0:
        eta = np.zeros(len(t))
    else:
        eta = np.asarray(x, dtype=float).reshape(len(t), -1) @ np.asarray(beta, dtype=float)
    risk = np.exp(eta)
    order = np.argsort(-t, kind="stable")  # longest first: cumulative sums are risk-set sums
    t, e, eta, risk = t[order], e[order], eta[order], risk[order]
    cum_risk = np.cumsum(risk)
    ll = 0.0
    # Walk the distinct event times; the risk set at t is everyone with duration >= t.
    times = np.unique(t[e])
    for time in times:
        at = t == time
        dead = at & e
        d = int(dead.sum())
        last = np.nonzero(t >= time)[0][-1]
        r_sum = cum_risk[last]
        ll += eta[dead].sum()
        if ties == "breslow" or d == 1:
            ll -= d * np.log(r_sum)
        else:
            d_sum = risk[dead].sum()
            frac = np.arange(d) / d
            ll -= np.log(r_sum - frac * d_sum).sum()
    return float(ll)
