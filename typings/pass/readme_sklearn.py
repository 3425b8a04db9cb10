"""docs/sklearn.md's example, as written there."""

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
