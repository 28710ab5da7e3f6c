"""Neural networks (autoencoder, trait classifiers) and their training; baselines live beside.

Exports are imported on first use (torch is loaded only by what needs it)."""

from radiogenomics.utils.lazy import lazy_exports

_EXPORTS = {
    "AutoencoderConfig": "config",
    "NetworkConfig": "config",
    "MLP": "network",
    "TrainedAutoencoder": "trained",
    "TrainedModel": "trained",
    "fit_autoencoder": "training",
    "fit_autoencoders": "training",
    "fit_classifier": "training",
    "fit_classifiers": "training",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
