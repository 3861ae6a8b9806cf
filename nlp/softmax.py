"""Multinomial logistic regression by plain gradient descent (numpy only), shared by the fitted heads."""

from __future__ import annotations

import numpy as np


def fit_softmax(X: np.ndarray, y: np.ndarray, n_classes: int, l2: float = 1e-3, steps: int = 1500,
                lr: float = 0.5) -> np.ndarray:
    """Weights (features, classes) for rows X (last column the bias, not penalised) and class indices y.
    Classes are weighted by 1/frequency (balanced), so a rare class is not drowned by a common one."""
    Y = np.eye(n_classes, dtype=np.float32)[y]
    counts = Y.sum(axis=0)
    class_w = np.where(counts > 0, 1.0 / np.maximum(counts, 1.0), 0.0)
    sample_w = (class_w[y] / class_w[y].mean())[:, None]
    W = np.zeros((X.shape[1], n_classes), dtype=np.float32)
    for _ in range(steps):
        P = softmax(X @ W)
        grad = X.T @ ((P - Y) * sample_w) / len(X)
        grad[:-1] += l2 * W[:-1]
        W -= lr * grad
    return W


def softmax(Z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of scores."""
    Z = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    return P / P.sum(axis=1, keepdims=True)
