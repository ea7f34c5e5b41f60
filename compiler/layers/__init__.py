"""The layer statements. Each file holds one family and registers its classes."""

from . import activations, blocks, conv, dropout, embedding, linear, norm, pool, recurrent, reshape  # noqa: F401  (registration)
from .base import Layer

__all__ = ["Layer"]
