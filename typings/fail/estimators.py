"""A module= builder the estimators cannot call: (rng, n_features, n_outputs) -> Network."""

import numpy as np

import typednet as tn
from typednet.sklearn import TypedNetClassifier


def swapped(n_features: int, rng: np.random.Generator, n_outputs: int) -> tn.Network:
    return tn.network(tn.dense(rng, n_features, n_outputs, tn.softmax))


def weights(rng: np.random.Generator, n_features: int, n_outputs: int) -> tn.Dense:
    return tn.dense(rng, n_features, n_outputs, tn.softmax)


TypedNetClassifier(module=swapped)  # E: [arg-type] Argument "module" to "TypedNetClassifier" has incompatible type "Callable[[int, Generator, int], Network[int, int]]"  # P: [reportArgumentType] Argument of type "(n_features: int, rng: Generator, n_outputs: int) -> Network[int, int]" cannot be assigned to parameter "module"
TypedNetClassifier(module=weights)  # E: [arg-type] Argument "module" to "TypedNetClassifier" has incompatible type "Callable[[Generator, int, int], Dense[int, int]]"  # P: [reportArgumentType] Argument of type "(rng: Generator, n_features: int, n_outputs: int) -> Dense[int, int]" cannot be assigned to parameter "module"
