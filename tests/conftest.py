"""Shared fixtures: an explicit random generator, hypothesis settings for 2 cores."""

import os

# scikit-learn's array-API estimator check runs only with this set, and SciPy reads it
# when first imported: set it before any test module imports scikit-learn.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# `make test` draws the same examples on every run (derandomize), so CI is reproducible;
# `make fuzz` explores: fresh random examples, 3000 a property (pytest's
# --hypothesis-profile=fuzz loads it after this file).
settings.register_profile(
    "typednet",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz", parent=settings.get_profile("typednet"), max_examples=3000, derandomize=False
)
settings.load_profile("typednet")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
