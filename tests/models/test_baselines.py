"""The baseline registry: a grid naming a parameter the estimator lacks is refused."""

from __future__ import annotations

import pytest

from radiogenomics.errors import InputError
from radiogenomics.models.baselines import BASELINES, get_baseline


@pytest.mark.parametrize("name", ["logreg_l2", "xgboost"])
def test_a_grid_with_an_unknown_hyperparameter_is_refused(name):
    # scikit-learn failed only when the first model was built, XGBoost ignored it with a warning
    with pytest.raises(InputError, match=rf"\[grids.{name}\]: {name}: unknown hyperparameters"):
        get_baseline(name).param_grid({"Cx": [0.01, 1]})


def test_every_default_grid_names_parameters_of_its_estimator():
    for name, spec in BASELINES.items():
        assert spec.param_grid(dict(spec.grid)) == spec.param_grid(), name
