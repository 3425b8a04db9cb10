"""How the command line quotes what it read from a file: shortened, on one line."""

__all__ = ["show"]


def show(text: str, limit: int = 30) -> str:
    """``text``'s repr, cut to ``limit`` characters (then its length is given)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"
