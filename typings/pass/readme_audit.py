"""The README's jaxtyping audit, as written there."""

from jaxtyping import install_import_hook

with install_import_hook("typednet", "beartype.beartype"):
    import typednet as tn
