"""`embedding 50->8`: nn.Embedding, a learned vector of 8 values for each of 50 ids.

In: int64 ids of any shape `[T]` (each from 0 to `num_embeddings` - 1; the
data check holds the ids to that range). Out: `[T, 8]` float32, with
`num_embeddings` x `embedding_dim` parameters.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..registry import register
from ..types import Dim, TensorType
from .base import Call, Weighted


@register
class Embedding(Weighted):
    """`embedding 50->8`: each integer id becomes a learned vector."""

    kind: Literal["embedding"] = "embedding"
    num_embeddings: int = Field(ge=1, title="number of ids",
                                description="how many ids there are: ids run from 0 to one less")
    embedding_dim: int = Field(ge=1, title="embedding width",
                               description="the values each id becomes")

    keyword = "embedding"

    def id_count(self) -> int | None:
        return self.num_embeddings
    torch_name = "Embedding"
    arrow = ("num_embeddings", "embedding_dim")
    example = "embedding 50->8"
    aliases = ("embed", "embeddings")
    hints = {"num_embeddings": "one more than the largest id, e.g. `embedding 50->8` for ids 0 to 49",
             "embedding_dim": "each id becomes this many values, e.g. `embedding 50->8`"}
    missing = {"num_embeddings": ("`embedding` needs the number of ids it knows",
                                  "write `embedding 50->8` for ids 0 to 49 (one more than the largest id)"),
               "embedding_dim": ("expected the ids and width like `50->8` after `embedding`",
                                 "write `embedding 50->8`: 50 ids, 8 values for each")}
    output_field = "embedding_dim"
    size_fields = ("num_embeddings", "embedding_dim")
    takes_ids = True
    keeps_shape = False

    def output(self, t: TensorType) -> TensorType:
        return TensorType((*t.dims, Dim(self.embedding_dim, "F")))

    def parameter_count(self, t: TensorType) -> int:
        return self.num_embeddings * self.embedding_dim

    def call(self, t: TensorType) -> Call:
        return Call("Embedding", (self.num_embeddings, self.embedding_dim))
