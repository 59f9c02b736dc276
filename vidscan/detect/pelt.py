"""The exact penalised search for mean shifts: PELT (Killick et al. 2012) with the
linear-kernel cost of ruptures' ``KernelCPD``, in numpy, with optional sample weights.

Why vidscan has its own: ``import ruptures`` imports scipy.stats, scipy.spatial and
scipy.signal for cost classes this search does not use, 1.1 s of a 3.5 s run on a 5-minute
160x90 file (scipy 1.17, 2 cores), and ruptures has no sample weights, which the scene level
needs. The kernel detector's default (linear) kernel and the scene level both use this one;
ruptures stays for the ``rbf`` kernel. The tests check that both give ruptures' partitions.
"""

from __future__ import annotations

from collections import deque

import numpy as np

#: Most steps searched together (see below): bounds the block's matrix to this many rows
#: whatever the minimum size.
MAX_BLOCK = 64


def change_points(vectors: np.ndarray, penalty: float, min_size: float, weights: np.ndarray | None = None) -> list[int]:
    """Indices starting a new segment (0 excluded) in the partition of ``vectors`` that
    minimises the (weighted) squared deviation from each segment's mean plus ``penalty`` per
    change, every segment weighing at least ``min_size`` (rows, without weights).

    Without weights this is what ``ruptures.KernelCPD(kernel="linear",
    min_size=min_size).fit(vectors).predict(pen=penalty)[:-1]`` returns; with them, what it
    returns on row i repeated ``weights[i]`` times, at O(rows) per step, not O(sum of weights).
    Ties go to the earliest start, as in ruptures. The result is the exact optimum; ruptures'
    pruning can miss it by a little with a minimum size and a penalty near the noise level."""
    x = np.asarray(vectors, np.float64)
    if x.ndim == 1:
        x = x[:, None]
    n = len(x)
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    if n < 2 or float(w.sum()) < 2 * min_size:
        return []
    total_w = np.concatenate([[0.0], np.cumsum(w)])
    total_x = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(w[:, None] * x, axis=0)])
    total_sq = np.concatenate([[0.0], np.cumsum(w * np.einsum("ij,ij->i", x, x))])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty
    previous = np.zeros(n + 1, np.int64)
    candidates = np.zeros(1, np.int64)  # starts still in the running, in increasing order
    doomed: deque[tuple[float, np.ndarray]] = deque()  # (weight from which they may go, starts)
    dropped = np.zeros(n + 1, bool)
    slack = 1e-9 * float(total_w[-1])
    t = 1
    while t <= n:
        while doomed and total_w[t] >= doomed[0][0] - slack:
            dropped[doomed.popleft()[1]] = True
        candidates = candidates[~dropped[candidates]]
        # A block of steps in which no start added inside it can end a segment yet (a start
        # needs min_size after it), so every step of the block chooses among the same
        # candidates: one matrix product per block instead of one gather per step.
        stop = int(np.searchsorted(total_w, total_w[t] + min_size - slack, side="left"))
        stop = max(t + 1, min(n + 1, stop, t + MAX_BLOCK))
        steps = np.arange(t, stop)
        # With increasing weights the starts ready at a step (at least min_size before it)
        # are a prefix of the candidates, longer at each step.
        ready = np.searchsorted(total_w[candidates], total_w[steps] - min_size + slack, side="right")
        usable = int(ready[-1])
        if usable:
            s = candidates[:usable]
            # Squared norms of the segment sums, taken relative to the block's first
            # cumulative sum to keep the numbers small.
            ends, starts = total_x[steps] - total_x[t], total_x[s] - total_x[t]
            spread = (np.einsum("ij,ij->i", ends, ends)[:, None] - 2.0 * (ends @ starts.T)
                      + np.einsum("ij,ij->i", starts, starts)[None, :])
            cost = (total_sq[steps][:, None] - total_sq[s][None, :]) - spread / (total_w[steps][:, None] - total_w[s][None, :])
            value = best[s][None, :] + cost
            value[np.arange(usable)[None, :] >= ready[:, None]] = np.inf
            k = np.argmin(value, axis=1)
            chosen = value[np.arange(len(steps)), k]
            found = np.isfinite(chosen)
            best[steps[found]] = chosen[found] + penalty
            previous[steps[found]] = s[k[found]]
            # PELT's pruning (this cost needs no constant): a start s that cannot beat
            # best[u] at a step u never will once a segment from u can follow, min_size
            # later; until then it may still be the best start, so it is dropped only from
            # then on. (Dropping it at once, as ruptures does, is not exact with a minimum size.)
            beaten = s[((value > best[steps][:, None]) & np.isfinite(value)).any(axis=0)]
            if len(beaten):
                doomed.append((float(total_w[stop - 1]) + min_size, beaten))
        candidates = np.concatenate([candidates, steps])
        t = stop
    if not np.isfinite(best[n]):
        return []
    starts, t = [], n
    while t > 0:
        t = int(previous[t])
        if t > 0:
            starts.append(t)
    return sorted(starts)
