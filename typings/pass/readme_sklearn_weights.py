"""docs/sklearn.md's weights example, as written there."""

import numpy as np
from sklearn.datasets import make_classification

from typednet.sklearn import TypedNetClassifier

X, y = make_classification(n_samples=600, weights=[0.9], flip_y=0.05, random_state=0)
for class_weight in (None, "balanced"):
    clf = TypedNetClassifier((16,), epochs=20, class_weight=class_weight, random_state=0)
    found = clf.fit(X, y).predict(X)[y == 1].mean()
    print(f"class_weight={class_weight}: rare class found {found:.2f}")

# Integer sample weights train as repeated rows when a batch holds the whole set.
counts = np.random.default_rng(0).integers(0, 3, len(X))
weighted = TypedNetClassifier((16,), batch_size=2000, epochs=5, random_state=0)
repeated = TypedNetClassifier((16,), batch_size=2000, epochs=5, random_state=0)
weighted.fit(X, y, sample_weight=counts)
repeated.fit(X.repeat(counts, axis=0), y.repeat(counts))
print(np.allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9))
