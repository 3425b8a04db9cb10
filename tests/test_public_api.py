import typednet as tn


def test_all_importable() -> None:
    for name in tn.__all__:
        assert getattr(tn, name) is not None, name


def test_all_has_no_duplicates_and_no_private_names() -> None:
    assert len(set(tn.__all__)) == len(tn.__all__)
    assert not [n for n in tn.__all__ if n.startswith("_")]


def test_shape_error_is_the_one_exported() -> None:
    from typednet.shapes import ShapeError

    assert tn.ShapeError is ShapeError
