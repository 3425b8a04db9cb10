"""The course's applications, apart from the library: its data, recipes and command line.

- `typednet.apps.wine_data`: the UCI Wine Quality CSVs (shipped inside the package), the
  reader and the download;
- `typednet.apps.wine`: the ``train-wine`` recipe (regression or classification);
- `typednet.apps.tutorial`: the course's 5-3-5-4 network, reproduced;
- `typednet.apps.predict`: ``typednet predict``, a saved network over a CSV file;
- `typednet.apps.cli`: the ``typednet`` command.

The library (``typednet``) never imports from here except to re-export
`load_wine_quality` and `fetch_wine_quality`.
"""
