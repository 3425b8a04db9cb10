"""docs/sklearn.md's example, as written there."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import typednet as tn
from typednet.sklearn import TypedNetClassifier

X, y = load_digits(return_X_y=True)  # 1797 images of 8 x 8 pixels, one per ROW
model = make_pipeline(
    StandardScaler(),
    TypedNetClassifier((64,), learning_rate=0.01, epochs=20, batch_size=32, random_state=0),
)
print(cross_val_score(model, X, y, cv=5).round(3))

X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model.fit(X_train, y_train)
print(f"test accuracy {model.score(X_test, y_test):.3f}")
net: tn.Network[int, int] = model[-1].net_  # inside: a typed network, samples as columns
print(net)


def residual_mlp(rng: np.random.Generator, n_features: int, n_outputs: int) -> tn.Network:
    """Any network, e.g. n_features → 64 → residual(64 → 64 → 64) → n_outputs (softmax)."""
    block = tn.network(tn.dense(rng, 64, 64, tn.relu)).then(tn.dense(rng, 64, 64, tn.identity))
    first = tn.network(tn.dense(rng, n_features, 64, tn.relu))
    return first.then(tn.residual(block)).then(tn.dense(rng, 64, n_outputs, tn.softmax))


clf = TypedNetClassifier(module=residual_mlp, learning_rate=0.01, epochs=20, batch_size=32,
                         early_stopping=True, random_state=0)  # fmt: skip
model = make_pipeline(StandardScaler(), clf).fit(X_train, y_train)
print(f"test accuracy {model.score(X_test, y_test):.3f}")
print(clf.net_)
print(model.predict_log_proba(X_test[:1]).round(1))  # from the logits: never -inf
