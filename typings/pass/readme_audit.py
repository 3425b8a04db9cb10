"""The README's jaxtyping audit, as written there."""

from jaxtyping import install_import_hook

with install_import_hook("typednet", "beartype.beartype"):
    import typednet as tn

print(tn.checks_enabled())  # typednet's own checks stay on under the audit
