"""``radiogenomics synthetic`` (write the synthetic demo cohort) and ``radiogenomics cohort``
(load files through the readers and print the cohort summary and load report)."""

from __future__ import annotations

from pathlib import Path

import typer

from radiogenomics.cli import app

# generate_cohort's arguments -> the options of `synthetic`
_SYNTHETIC_OPTIONS = {
    "n_patients": "--patients",
    "n_genes": "--genes",
    "scale": "--scale",
    "imaging_fraction": "--imaging-fraction",
}


@app.command("synthetic")
def synthetic_command(
    out: Path = typer.Option(..., "--out", help="folder to write the cohort's files into"),
    seed: int = typer.Option(0, "--seed", help="seed (same seed: same files, byte for byte)"),
    patients: int = typer.Option(500, "--patients", help="number of patients"),
    genes: int = typer.Option(3000, "--genes", help="number of genes (at least 300)"),
    scale: str = typer.Option("counts", "--scale", help="expression values: counts or tpm"),
    imaging_fraction: float = typer.Option(
        0.7, "--imaging-fraction", help="fraction of patients with VASARI traits"
    ),
    quiet: bool = typer.Option(False, "--quiet", help="print nothing but errors"),
) -> None:
    """Write the synthetic cohort (expression, VASARI, clinical, subtypes, GMT, truth.json)."""
    from radiogenomics.data.synthetic import generate_cohort
    from radiogenomics.errors import InputError

    try:
        gen = generate_cohort(
            out,
            seed=seed,
            n_patients=patients,
            n_genes=genes,
            imaging_fraction=imaging_fraction,
            scale=scale,
        )
    except InputError as err:  # name the option the user typed, not the library's argument
        option = _SYNTHETIC_OPTIONS.get(err.field or "")
        if option is None:
            raise
        raise InputError(err.message, file=err.file, field=option, expected=err.expected) from None
    except OSError as err:  # the options were good: the folder is not (a second's work lost)
        raise InputError(
            f"cannot write the cohort: {err.strerror or err}",
            file=err.filename or out,
            field="--out",
            expected="a folder this user can create and write to",
        ) from None
    if quiet:
        return
    typer.echo(f"synthetic cohort (seed {seed}) written to {gen.out_dir}:")
    for key, path in gen.paths.items():
        typer.echo(f"  {key:<10} {path.name}")
    links = gen.truth["radiogenomic_links"]
    typer.echo("planted traits:")
    for trait, rule in gen.truth["traits"].items():
        typer.echo(f"  {trait:<13} {rule['rule']}")
    surv = gen.truth["survival"]
    typer.echo(
        f"survival: log-hazard {surv['os_log_hazard_per_sd']} per SD of {surv['driver']};"
        f" radiogenomic trait expected: {', '.join(link['name'] for link in links)}"
    )


@app.command("cohort")
def cohort_command(
    expression: Path | None = typer.Option(None, "--expression", help="expression matrix"),
    traits: Path | None = typer.Option(None, "--traits", help="VASARI CSV"),
    subtypes: Path | None = typer.Option(None, "--subtypes", help="subtype table"),
    clinical: Path | None = typer.Option(None, "--clinical", help="TCGA clinical patient file"),
    follow_up: Path | None = typer.Option(None, "--follow-up", help="clinical follow-up table"),
    scale: str = typer.Option("auto", "--scale", help="auto, counts, tpm or log2"),
    orientation: str = typer.Option(
        "auto",
        "--orientation",
        help="axes of the expression file: auto, genes_x_samples or samples_x_genes",
    ),
    synthetic: Path | None = typer.Option(
        None, "--synthetic", help="a folder written by `radiogenomics synthetic` (all files)"
    ),
    quiet_report: bool = typer.Option(
        False, "--no-report", help="omit the expression and VASARI reports"
    ),
) -> None:
    """Load the files through the readers and print the cohort summary."""
    import warnings

    from radiogenomics.data.cohort import Cohort
    from radiogenomics.data.synthetic import load_synthetic
    from radiogenomics.errors import InputError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if synthetic is not None:
            cohort = load_synthetic(synthetic)
        elif expression is None:
            raise InputError(
                "nothing to load", field="--expression", expected="--expression or --synthetic"
            )
        else:
            cohort = Cohort.load(
                expression,
                traits=traits,
                subtypes=subtypes,
                clinical=clinical,
                follow_up=follow_up,
                scale=scale,
                orientation=orientation,
                name=expression.name,
            )
    for w in caught:
        typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)
    if not quiet_report:
        for report in (cohort.expression_report, cohort.traits_report):
            if report is not None:
                typer.echo(str(report))
                typer.echo("")
    typer.echo(cohort.summary())
