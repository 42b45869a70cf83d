"""The app's bad-input error: :class:`InputError` names the field, like pydantic's ``loc``."""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """A bad input; ``field`` names it (``"patches.0"``, ``"cell"``), like pydantic's ``loc``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
