"""radiogenomics: transcriptomic drivers of imaging traits, found with neural networks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("radiogenomics")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

from radiogenomics.errors import ExecutionError, InputError

__all__ = ["ExecutionError", "InputError", "__version__"]
