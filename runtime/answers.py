"""What `nqa predict --input ... --json` and `nqa evaluate --json` write: their pydantic models.

In: the answer for one example, or a network's loss and metrics on labelled rows.
Out: `Prediction` and `Evaluation`, whose JSON Schemas `nqa schema` prints. No torch here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .metrics import ClassificationMetrics, RegressionMetrics


class Prediction(BaseModel):
    """One example's answer (`nqa predict --input ... --json`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: tuple[float, ...]
    output: tuple[float, ...] = Field(description="the network's raw outputs")
    predicted: str | None = Field(None, description="the predicted class label (classifiers)")
    probability: float | None = Field(None, description="the predicted class's probability (classifiers)")
    probabilities: dict[str, float] | None = Field(None, description="each class's probability (classifiers), "
                                                                     "or each output's probability of a 1 (bce)")
    values: dict[str, float] | None = Field(None, description="each output by its name (regression), or its "
                                                              "0 or 1 (bce)")


EVALUATION_VERSION = 1


class Evaluation(BaseModel):
    """A trained network's loss and metrics on labelled rows (`nqa evaluate --json`, the report's `test`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = Field(EVALUATION_VERSION, description="this format's version")
    data: str = Field(description="the file scored, as given")
    rows: int
    loss: float | None = Field(description="the spec's loss, the mean over the rows (None: not finite)")
    task: Literal["classification", "regression"]
    classification: ClassificationMetrics | None = None
    regression: RegressionMetrics | None = None
