"""Shared fixtures: an explicit random generator, hypothesis settings for 2 cores."""

import os

# scikit-learn's array-API estimator check runs only with this set, and SciPy reads it
# when first imported: set it before any test module imports scikit-learn.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "typednet", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# `make fuzz`: the fuzz suite (tests/test_fuzz.py) at length; pytest's
# --hypothesis-profile=fuzz loads it after this file.
settings.register_profile("fuzz", parent=settings.get_profile("typednet"), max_examples=3000)
settings.load_profile("typednet")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
