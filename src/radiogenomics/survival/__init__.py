"""Survival analysis of imaging and radiogenomic traits (METHOD 7): Kaplan-Meier curves and
log-rank tests, univariate Cox models and stepwise Cox selection with R's ``step`` semantics,
matching R's ``survival`` package numbers (Efron ties, Greenwood log-scale intervals)."""

from radiogenomics.survival._frame import SurvivalWarning
from radiogenomics.survival.analysis import SurvivalAnalysis, run_survival, write_survival
from radiogenomics.survival.comparison import (
    ModelComparison,
    compare_without_traits,
    likelihood_ratio_row,
    write_model_comparison,
)
from radiogenomics.survival.cox import CoxFit, CoxUnivariateResult, cox_univariate, fit_cox
from radiogenomics.survival.km import KaplanMeierResult, LogRank, kaplan_meier, logrank_table
from radiogenomics.survival.likelihood import partial_log_likelihood
from radiogenomics.survival.plots import plot_forest, plot_km_grid
from radiogenomics.survival.stepwise import LikelihoodRatio, StepwiseResult, cox_stepwise
from radiogenomics.survival.variables import SurvivalVariables, survival_variables

__all__ = [
    "CoxFit",
    "CoxUnivariateResult",
    "KaplanMeierResult",
    "LikelihoodRatio",
    "LogRank",
    "ModelComparison",
    "StepwiseResult",
    "SurvivalAnalysis",
    "SurvivalVariables",
    "SurvivalWarning",
    "compare_without_traits",
    "cox_stepwise",
    "cox_univariate",
    "fit_cox",
    "kaplan_meier",
    "likelihood_ratio_row",
    "logrank_table",
    "partial_log_likelihood",
    "plot_forest",
    "plot_km_grid",
    "run_survival",
    "survival_variables",
    "write_model_comparison",
    "write_survival",
]
