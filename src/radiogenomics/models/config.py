"""One network configuration: the classifier's and the autoencoder's hyperparameters.

Plain data (pydantic), so a study TOML can embed it and the effective value can be written into
the run folder. Optimisers use the defaults of ``numerics`` (PyTorch's, or Keras 2.2.4's as the
paper had them; see :mod:`radiogenomics.models.numerics`) unless ``learning_rate`` is given.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from radiogenomics.errors import InputError
from radiogenomics.models.numerics import NUMERICS, NumericsName

Activation = Literal["tanh", "sigmoid", "relu"]
Optimizer = Literal["adadelta", "nadam", "adam", "sgd"]

#: PyTorch's default learning rate of each optimiser (used when ``learning_rate`` is None).
DEFAULT_LEARNING_RATES: dict[str, float] = dict(NUMERICS["torch"].learning_rates)


class _TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **data: Any) -> None:
        # built from Python, a bad value is bad input like any other: an InputError naming the
        # field, the value and the bound (a study file's sections are validated by its loader)
        try:
            super().__init__(**data)
        except ValidationError as err:
            problems = [
                (f"{'.'.join(map(str, e['loc']))} = {e.get('input')!r}: " if e["loc"] else "")
                + ("unknown field" if e["type"] == "extra_forbidden" else e["msg"])
                for e in err.errors()
            ]
            first = ".".join(map(str, err.errors()[0]["loc"]))
            raise InputError(
                "; ".join(problems).replace("Value error, ", ""),
                field=f"{type(self).__name__}.{first}" if first else type(self).__name__,
            ) from None

    hidden: tuple[int, ...] = (4000, 2000, 1000)
    activation: Activation = "tanh"
    optimizer: Optimizer = "adadelta"
    learning_rate: float | None = Field(default=None, gt=0)
    dropout: float = Field(default=0.0, ge=0.0, lt=1.0)
    batch_size: int = Field(default=10, ge=2)
    max_epochs: int = Field(default=500, ge=1)
    patience: int = Field(default=200, ge=1)
    # "keras": Glorot-uniform init, Keras' BatchNorm momentum/epsilon and optimiser constants
    numerics: NumericsName = "torch"

    @field_validator("hidden")
    @classmethod
    def _check_hidden(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) == 0 or any(int(h) < 1 for h in v):
            raise ValueError("hidden must list at least one positive layer size")
        return tuple(int(h) for h in v)

    @property
    def lr(self) -> float:
        """The learning rate actually used (the optimiser's default under ``numerics`` when not
        given)."""
        if self.learning_rate is not None:
            return self.learning_rate
        return NUMERICS[self.numerics].learning_rates[self.optimizer]

    def to_dict(self) -> dict:
        return self.model_dump(mode="json")


class NetworkConfig(_TrainingConfig):
    """A trait classifier: hidden blocks (Dense, BatchNorm, activation, Dropout) + logits.

    ``input_dropout`` defaults to ``dropout`` (the paper applies the same rate to the input).
    ``ae_layers`` of the first hidden Dense layers take a trained autoencoder's encoder weights;
    ``frozen`` keeps those Dense layers fixed (their BatchNorm still trains).
    """

    input_dropout: float | None = Field(default=None, ge=0.0, lt=1.0)
    ae_layers: int = Field(default=0, ge=0, le=3)
    frozen: bool = False

    @model_validator(mode="after")
    def _check_transfer(self) -> NetworkConfig:
        if self.ae_layers > len(self.hidden):
            raise ValueError(
                f"ae_layers={self.ae_layers} but the network has {len(self.hidden)} hidden layers"
            )
        return self

    @property
    def p_input(self) -> float:
        return self.dropout if self.input_dropout is None else self.input_dropout

    def label(self) -> str:
        """A short readable name for tables."""
        h = "/".join(map(str, self.hidden))
        ae = f"ae{self.ae_layers}{'f' if self.frozen else 't'}" if self.ae_layers else "noae"
        keras = " keras" if self.numerics == "keras" else ""
        return f"{h} {self.activation} {self.optimizer} drop{self.dropout:g} {ae}{keras}"


class AutoencoderConfig(_TrainingConfig):
    """The transcriptomic autoencoder: encoder ``hidden``, mirrored decoder, linear output, MAE.

    Early stopping monitors the mean per-gene R^2 of the validation patients.
    """

    batch_size: int = Field(default=50, ge=2)
    patience: int = Field(default=50, ge=1)

    @property
    def layers(self) -> tuple[int, ...]:
        """Hidden sizes of the whole network: encoder then mirrored decoder."""
        return (*self.hidden, *reversed(self.hidden[:-1]))
