"""The one exception type raised by the product writers and readers."""

from __future__ import annotations


class ProductError(ValueError):
    """A product could not be written or read (bad array, bad metadata, bad file)."""
