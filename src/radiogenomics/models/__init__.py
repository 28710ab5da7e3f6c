"""Neural networks (autoencoder, trait classifiers) and their training; baselines live beside."""

from radiogenomics.models.config import AutoencoderConfig, NetworkConfig
from radiogenomics.models.network import MLP
from radiogenomics.models.trained import TrainedAutoencoder, TrainedModel
from radiogenomics.models.training import (
    fit_autoencoder,
    fit_autoencoders,
    fit_classifier,
    fit_classifiers,
)

__all__ = [
    "MLP",
    "AutoencoderConfig",
    "NetworkConfig",
    "TrainedAutoencoder",
    "TrainedModel",
    "fit_autoencoder",
    "fit_autoencoders",
    "fit_classifier",
    "fit_classifiers",
]
