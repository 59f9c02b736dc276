"""Per-frame labels without flicker: Viterbi decoding with a switching penalty."""

from __future__ import annotations

import numpy as np


def viterbi(log_probs: np.ndarray, switch_penalty: float) -> np.ndarray:
    """Most likely label path ``int [N]`` given per-sample ``log_probs [N, L]``, where every
    change of label costs ``switch_penalty`` nats. A short run of another label survives
    only if its evidence outweighs two switches."""
    n, k = log_probs.shape
    if n == 0:
        return np.zeros(0, np.int64)
    score = log_probs[0].copy()
    back = np.zeros((n, k), np.int32)
    stay = np.arange(k)
    for t in range(1, n):
        best_prev = int(np.argmax(score))
        switch = score[best_prev] - switch_penalty
        use_switch = switch > score
        back[t] = np.where(use_switch, best_prev, stay)
        score = np.where(use_switch, switch, score) + log_probs[t]
    path = np.empty(n, np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def runs(path: np.ndarray) -> list[tuple[int, int, int]]:
    """``(label, start, end)`` runs of equal values (end exclusive)."""
    out: list[tuple[int, int, int]] = []
    start = 0
    for i in range(1, len(path) + 1):
        if i == len(path) or path[i] != path[start]:
            out.append((int(path[start]), start, i))
            start = i
    return out
