"""The Cox partial log-likelihood over arrays, with Efron's or Breslow's handling of ties.

R's ``coxph`` and lifelines both use Efron's method by default; this independent implementation
gives the null model's log-likelihood (no covariates, which a fitter cannot fit) and lets the
tests confirm which tie method a fitted model used.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class NewtonFit:
    """Maximum partial-likelihood estimate (Efron ties) from :func:`fit_efron`."""

    coef: np.ndarray
    se: np.ndarray
    loglik: float
    converged: bool
    iterations: int


class _EfronTerms:
    """Precomputed event structure of one dataset, so each likelihood evaluation is a handful
    of cumulative sums and gathers (no Python loop over event times)."""

    def __init__(self, durations: np.ndarray, events: np.ndarray, x: np.ndarray):
        t = np.asarray(durations, dtype=float)
        e = np.asarray(events, dtype=float) > 0
        order = np.argsort(-t, kind="stable")
        self.t, self.e = t[order], e[order]
        x = np.asarray(x, dtype=float)[order]
        self.x = x - x.mean(axis=0)  # centring changes neither the coefficients nor the likelihood
        times = np.unique(self.t[self.e])
        # rows with duration >= each event time: a prefix of the descending order
        self.risk_end = np.searchsorted(-self.t, -times, side="right") - 1
        self.dead = np.nonzero(self.e)[0]
        self.dead_time = np.searchsorted(times, self.t[self.dead])
        d = np.bincount(self.dead_time, minlength=len(times))
        # Efron: one term per death, the l-th of d tied deaths removing l/d of their risk
        self.term_time = np.repeat(np.arange(len(times)), d)
        first = np.repeat(np.cumsum(d) - d, d)
        self.frac = (np.arange(len(self.term_time)) - first) / d[self.term_time]
        self.x_dead_sum = self.x[self.dead].sum(axis=0)
        self.n_times = len(times)

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-likelihood, gradient and information matrix (minus the Hessian) at ``beta``."""
        x = self.x
        eta = x @ beta
        shift = eta.max()  # exact cancellation: every log term and sum_D eta move together
        r = np.exp(eta - shift)
        rx = r[:, None] * x
        rxx = rx[:, :, None] * x[:, None, :]
        s0 = np.cumsum(r)[self.risk_end]
        s1 = np.cumsum(rx, axis=0)[self.risk_end]
        s2 = np.cumsum(rxx, axis=0)[self.risk_end]
        k = x.shape[1]
        d0 = np.bincount(self.dead_time, weights=r[self.dead], minlength=self.n_times)
        d1 = np.zeros((self.n_times, k))
        np.add.at(d1, self.dead_time, rx[self.dead])
        d2 = np.zeros((self.n_times, k, k))
        np.add.at(d2, self.dead_time, rxx[self.dead])
        j, f = self.term_time, self.frac
        a0 = s0[j] - f * d0[j]
        a1 = s1[j] - f[:, None] * d1[j]
        a2 = s2[j] - f[:, None, None] * d2[j]
        ll = float((eta[self.dead] - shift).sum() - np.log(a0).sum())
        mean = a1 / a0[:, None]
        grad = self.x_dead_sum - mean.sum(axis=0)
        info = (a2 / a0[:, None, None]).sum(axis=0) - mean.T @ mean
        return ll, grad, info


def fit_efron(
    durations: np.ndarray,
    events: np.ndarray,
    x: np.ndarray,
    max_iter: int = 50,
    eps: float = 1e-9,
) -> NewtonFit:
    """Cox regression by Newton-Raphson with step halving, as R's ``coxph`` (Efron ties,
    start at 0, converged when the log-likelihood's relative change is below ``eps``).

    Raises ``numpy.linalg.LinAlgError`` when the information matrix is singular.
    """
    terms = _EfronTerms(durations, events, x)
    k = terms.x.shape[1]
    beta = np.zeros(k)
    ll, grad, info = terms.evaluate(beta)
    converged = False
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        step = np.linalg.solve(info, grad)
        for _ in range(30):
            new_ll, new_grad, new_info = terms.evaluate(beta + step)
            if np.isfinite(new_ll) and new_ll >= ll - 1e-12 * abs(ll):
                break
            step = step / 2
        beta = beta + step
        done = abs(1 - ll / new_ll) <= eps if new_ll != 0 else abs(new_ll - ll) <= eps
        ll, grad, info = new_ll, new_grad, new_info
        if done:
            converged = True
            break
    cov = np.linalg.inv(info)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    return NewtonFit(coef=beta, se=se, loglik=ll, converged=converged, iterations=iterations)
