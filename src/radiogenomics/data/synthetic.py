"""The synthetic demo cohort: real file formats with imaging traits and survival planted on named
gene programmes, so the whole study can be run and its findings checked against ``truth.json``.

Model (all from one seed):

* Patients have standard-normal scores on named programmes (``SYN_HYPOXIA``, ``SYN_EMT``, ...;
  mildly correlated) and on a few unnamed background factors. A programme's genes (20-80 each)
  load on its score; every gene also loads weakly on the background factors, plus gene-specific
  noise. This gives log2 expression; counts are Poisson draws at a per-patient library size
  (or TPM, when asked).
* Each imaging trait is a non-linear function (threshold, soft AND, soft OR or gate) of one or two
  programmes, sampled as a Bernoulli label, written with the paper's VASARI text labels.
* ``edema`` is ``SYN_EMT`` gated by ``SYN_INFLAMMATION``: logit = 6 g emt - 3 (1 - g) with
  g = sigmoid(5 (inflammation + 0.2)). The death and progression hazards rise with the EMT drive
  of edema, g * emt (standardised): the patients in whom EMT pushes edema up have the worse
  outcome. A patient whose attribution ranking (e.g. integrated gradients of the edema network)
  is enriched for SYN_EMT, the radiogenomic trait "edema + SYN_EMT", is such a patient, which
  makes that radiogenomic trait survival-linked.
* About 30% of the patients have no imaging (the autoencoder's training set).

Files written to ``out_dir`` (see :data:`FILES`): expression TSV (genes x aliquots,
``SYMBOL|ENTREZ`` ids with a few ``?`` rows, one duplicated symbol and some patients with two
aliquots), VASARI CSV, TCGA patient file and follow-up table, pan-glioma-style subtype table, a
GMT of the programmes plus decoy sets, ``latent.tsv`` (the true scores) and ``truth.json``.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radiogenomics.data._common import PathLike
from radiogenomics.errors import InputError
from radiogenomics.utils.seeding import rng as derive_rng

FILES = {
    "expression": "expression.tsv.gz",
    "vasari": "vasari.csv",
    "clinical": "clinical_patient.txt",
    "follow_up": "clinical_follow_up.tsv",
    "subtypes": "subtypes.tsv",
    "gene_sets": "gene_sets.gmt",
    "latent": "latent.tsv",
    "truth": "truth.json",
}

# Programme -> number of genes (20-80).
PROGRAMMES = {
    "SYN_HYPOXIA": 60,
    "SYN_PROLIFERATION": 70,
    "SYN_ANGIOGENESIS": 45,
    "SYN_EMT": 60,
    "SYN_INFLAMMATION": 55,
    "SYN_NEURAL": 50,
    "SYN_STEMNESS": 40,
    "SYN_OLIGODENDROCYTE": 45,
    "SYN_MIGRATION": 35,
    "SYN_INTERFERON": 40,  # not linked to any trait: a negative control
    "SYN_OXPHOS": 50,  # not linked to any trait: a negative control
}
_MIN_PROGRAMME = 15  # the smallest set GSEA tests by default
_FREE_GENES = 100  # genes outside every programme, at least
MIN_GENES = len(PROGRAMMES) * _MIN_PROGRAMME + _FREE_GENES + 35


def programme_sizes(n_genes: int) -> dict[str, int]:
    """Programme sizes: :data:`PROGRAMMES` from 650 genes up; shrunk in proportion (at least 15
    genes each) for smaller test cohorts."""
    full = sum(PROGRAMMES.values())
    factor = min(1.0, (n_genes - _FREE_GENES) / full)
    return {k: max(_MIN_PROGRAMME, int(round(v * factor))) for k, v in PROGRAMMES.items()}


# Mild correlations between programme scores (realistic co-regulation).
_CORRELATED = {("SYN_HYPOXIA", "SYN_ANGIOGENESIS"): 0.3, ("SYN_NEURAL", "SYN_OLIGODENDROCYTE"): 0.3}

SURVIVAL_DRIVER = "edema_emt_drive"  # latent.tsv column: the standardised EMT drive of edema
OS_LOG_HAZARD = 1.0  # per SD of the driver
PFS_LOG_HAZARD = 0.8
AGE_LOG_HAZARD = 0.02  # per year of age at diagnosis

# trait -> how its label is drawn from the programme scores (the rule is evaluated in _traits).
TRAIT_RULES = {
    "enhancing": {
        "programmes": ["SYN_ANGIOGENESIS"],
        "rule": "threshold: logit = 4 * (angiogenesis - 0.3)",
        "positive": ">=1/3",
    },
    "ncet": {
        "programmes": ["SYN_NEURAL"],
        "rule": "threshold: logit = 4 * (neural - 0.5)",
        "positive": ">=1/3",
    },
    "necrosis": {
        "programmes": ["SYN_HYPOXIA", "SYN_PROLIFERATION"],
        "rule": "soft AND: P = 0.05 + 0.9 * sigmoid(4 (hypoxia + 0.3)) * sigmoid(4 (prolif + 0.3))",
        "positive": ">=1/3",
    },
    "edema": {
        "programmes": ["SYN_EMT", "SYN_INFLAMMATION"],
        "rule": "gate: logit = 6 * g * emt - 3 * (1 - g), g = sigmoid(5 * (inflammation + 0.2))",
        "positive": ">=1/3",
    },
    "focal": {
        "programmes": ["SYN_STEMNESS"],
        "rule": "threshold: logit(non-focal) = 4 * (stemness - 0.5)",
        "positive": "non-focal",
    },
    "infiltrative": {
        "programmes": ["SYN_OLIGODENDROCYTE", "SYN_MIGRATION"],
        "rule": "soft OR: P = 1 - (1 - sigmoid(4 (oligo - 0.9))) (1 - sigmoid(4 (migration - 0.9)))",
        "positive": "infiltrative",
    },
}

_LABELS = {
    "proportion": {0: ("Minimal", "Less than 1/3"), 1: ("Between 1/3 and 2/3", "More than 2/3")},
    "focal": {0: ("Focal",), 1: ("Multifocal or Multicentric", "Multifocal or Multicentric")},
    "infiltrative": {
        0: ("expansive (T1~FLAIR)",),
        1: ("mixed (T1 less than FLAIR)", "infiltrative (T1 much smaller than FLAIR)"),
    },
}
_VASARI_COLUMNS = {
    "focal": "f9.multifocal.or.multicentric",
    "enhancing": "f5.proportion.enhancing",
    "ncet": "f6.proportion.ncet",
    "necrosis": "f7.proportion.necrosis",
    "edema": "f14.proportion.edema",
    "infiltrative": "f10.t1.flair.ratio",
}


@dataclass(frozen=True)
class SyntheticCohort:
    """Where :func:`generate_cohort` wrote each file, and the truth it planted."""

    out_dir: Path
    paths: dict[str, Path]
    truth: dict

    def load(self):
        """The cohort read back through the real readers."""
        return load_synthetic(self.out_dir)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _edema_logit(emt: np.ndarray, inflammation: np.ndarray, s) -> np.ndarray:
    """P(edema >= 1/3): logit = 6 * gate * emt - 3 * (1 - gate), gate = sigmoid(5 (infl + 0.2)).

    d logit / d emt = 6 * gate: EMT moves edema only where inflammation is high; elsewhere
    edema is rare (5%) whatever EMT does, so those labels carry little noise.
    """
    gate = s(5 * (inflammation + 0.2))
    return s(6 * gate * emt - 3 * (1 - gate))


def _edema_emt_drive(z: dict[str, np.ndarray]) -> np.ndarray:
    """How hard EMT pushes edema up in each patient, gate * emt, standardised over the cohort."""
    d = _sigmoid(5 * (z["SYN_INFLAMMATION"] + 0.2)) * z["SYN_EMT"]
    return (d - d.mean()) / d.std()


def _trait_probabilities(z: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """P(positive class) of each trait from the programme scores (the rules of TRAIT_RULES)."""
    s = _sigmoid
    return {
        "enhancing": s(4 * (z["SYN_ANGIOGENESIS"] - 0.3)),
        "ncet": s(4 * (z["SYN_NEURAL"] - 0.5)),
        "necrosis": 0.05
        + 0.9 * s(4 * (z["SYN_HYPOXIA"] + 0.3)) * s(4 * (z["SYN_PROLIFERATION"] + 0.3)),
        "edema": _edema_logit(z["SYN_EMT"], z["SYN_INFLAMMATION"], s),
        "focal": s(4 * (z["SYN_STEMNESS"] - 0.5)),
        "infiltrative": 1
        - (1 - s(4 * (z["SYN_OLIGODENDROCYTE"] - 0.9))) * (1 - s(4 * (z["SYN_MIGRATION"] - 0.9))),
    }


def _gz_bytes(text: str) -> bytes:
    """Gzip with no timestamp or file name, so the same text gives the same bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def generate_cohort(
    out_dir: PathLike,
    seed: int = 0,
    n_patients: int = 500,
    n_genes: int = 3000,
    *,
    imaging_fraction: float = 0.7,
    scale: str = "counts",
    n_decoys: int = 40,
) -> SyntheticCohort:
    """Write a synthetic cohort into ``out_dir`` (same seed and arguments: same bytes).

    ``scale``: ``counts`` (integer read counts) or ``tpm``. Returns the written paths and the
    planted truth (also in ``truth.json``).
    """
    if n_genes < MIN_GENES:
        raise InputError(
            f"n_genes={n_genes} is too small for {len(PROGRAMMES)} programmes of at least "
            f"{_MIN_PROGRAMME} genes",
            field="n_genes",
            expected=f"at least {MIN_GENES}",
        )
    sizes = programme_sizes(n_genes)
    if n_patients < 40:
        raise InputError(
            f"n_patients={n_patients} is too small", field="n_patients", expected="at least 40"
        )
    if scale not in ("counts", "tpm"):
        raise InputError(f"unknown scale {scale!r}", field="scale", expected="counts or tpm")
    if not 0.1 <= imaging_fraction <= 1.0:
        raise InputError(
            f"imaging_fraction={imaging_fraction}", field="imaging_fraction", expected="0.1..1"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = derive_rng(seed, "synthetic")

    # ---- genes and programmes
    genes = [f"G{i + 1:05d}" for i in range(n_genes)]
    entrez = [str(100000 + i + 1) for i in range(n_genes)]
    order = g.permutation(n_genes)
    programmes: dict[str, list[str]] = {}
    start = 0
    for name, size in sizes.items():
        idx = np.sort(order[start : start + size])
        programmes[name] = [genes[i] for i in idx]
        start += size
    in_programme = set(order[:start].tolist())
    free = [i for i in range(n_genes) if i not in in_programme]

    # ---- latent scores
    names = list(PROGRAMMES)
    k = len(names)
    corr = np.eye(k)
    for (a, b), r in _CORRELATED.items():
        i, j = names.index(a), names.index(b)
        corr[i, j] = corr[j, i] = r
    z_mat = g.standard_normal((n_patients, k)) @ np.linalg.cholesky(corr).T
    z = {name: z_mat[:, i] for i, name in enumerate(names)}
    n_bg = 5
    bg = g.standard_normal((n_patients, n_bg))

    # ---- log2 expression: baseline + programme + background + noise
    mu = g.normal(5.0, 1.8, n_genes)
    load_bg = g.normal(0.0, 0.25, (n_bg, n_genes))
    noise_sd = g.uniform(0.3, 0.7, n_genes)
    x = mu + bg @ load_bg + g.standard_normal((n_patients, n_genes)) * noise_sd
    loadings: dict[str, np.ndarray] = {}
    gene_pos = {gname: i for i, gname in enumerate(genes)}
    for name, members in programmes.items():
        idx = np.array([gene_pos[m] for m in members])
        lam = g.uniform(0.5, 1.1, len(idx))
        loadings[name] = lam
        x[:, idx] += np.outer(z[name], lam)

    # ---- patients and aliquots
    patients = [f"SYN-01-{i + 1:04d}" for i in range(n_patients)]
    n_double = max(2, n_patients // 50)
    doubles = set(g.choice(n_patients, n_double, replace=False).tolist())
    columns, col_x = [], []
    for i, pid in enumerate(patients):
        columns.append(f"{pid}-01A-01R")
        col_x.append(x[i])
        if i in doubles:
            columns.append(f"{pid}-01A-02R")
            col_x.append(x[i] + g.normal(0, 0.1, n_genes))
    xs = np.array(col_x)  # aliquots x genes
    # '?' rows and one duplicated symbol (a free gene measured twice), as in real RSEM files.
    n_unknown = 3
    dup_gene = free[0]
    tpm = np.exp2(xs)
    tpm = tpm / tpm.sum(axis=1, keepdims=True)
    extra = np.exp2(g.normal(2.0, 1.0, (len(columns), n_unknown + 1)))
    if scale == "counts":
        lib = g.uniform(15e6, 40e6, len(columns))
        vals = g.poisson(tpm * lib[:, None]).astype(np.int64)
        extra_vals = g.poisson(extra * lib[:, None] / 1e6).astype(np.int64)
    else:
        vals = tpm * 1e6 * (1e6 / (1e6 + extra.sum(axis=1, keepdims=True)))
        extra_vals = extra * (1e6 / (1e6 + extra.sum(axis=1, keepdims=True)))
    row_ids = [f"?|{900000 + j}" for j in range(n_unknown)]
    row_ids += [f"{gname}|{e}" for gname, e in zip(genes, entrez, strict=True)]
    row_ids.append(f"{genes[dup_gene]}|{900100}")
    mat = np.concatenate([extra_vals[:, :n_unknown], vals, extra_vals[:, n_unknown:]], axis=1).T
    table = pd.DataFrame(mat, index=pd.Index(row_ids, name="gene_id"), columns=columns)
    text = table.to_csv(
        sep="\t", lineterminator="\n", float_format="%.4f" if scale == "tpm" else None
    )
    paths = {key: out / name for key, name in FILES.items()}
    paths["expression"].write_bytes(_gz_bytes(text))

    # ---- imaging traits
    probs = _trait_probabilities(z)
    imaged = np.sort(g.choice(n_patients, int(round(imaging_fraction * n_patients)), replace=False))
    labels = {t: (g.random(n_patients) < p).astype(int) for t, p in probs.items()}
    _write_vasari(paths["vasari"], patients, imaged, labels, g)

    # ---- clinical
    age = np.clip(np.round(g.normal(58, 12, n_patients)), 20, 89)
    gender = np.where(g.random(n_patients) < 0.6, "MALE", "FEMALE")
    race = np.where(
        g.random(n_patients) < 0.88,
        "WHITE",
        np.where(g.random(n_patients) < 0.5, "ASIAN", "BLACK OR AFRICAN AMERICAN"),
    )
    race = np.where(g.random(n_patients) < 0.03, "[Not Available]", race)
    drive = _edema_emt_drive(z)
    eta_os = OS_LOG_HAZARD * drive + AGE_LOG_HAZARD * (age - 58)
    eta_pfs = PFS_LOG_HAZARD * drive + AGE_LOG_HAZARD * (age - 58)
    t_death = g.exponential(1.0, n_patients) / (np.log(2) / 420 * np.exp(eta_os))
    t_prog = g.exponential(1.0, n_patients) / (np.log(2) / 220 * np.exp(eta_pfs))
    censor = g.uniform(200, 2500, n_patients)
    os_days = np.maximum(1, np.round(np.minimum(t_death, censor))).astype(int)
    dead = t_death <= censor
    prog = t_prog < np.minimum(t_death, censor)
    pfs_days = np.where(prog, np.maximum(1, np.round(t_prog)), os_days).astype(int)
    pfs_days = np.minimum(pfs_days, os_days)
    _write_clinical(
        paths["clinical"],
        paths["follow_up"],
        patients,
        age,
        gender,
        race,
        os_days,
        dead,
        pfs_days,
        prog,
        g,
    )

    # ---- subtypes (pan-glioma layout): the dominant of four programme pairs
    sub_scores = np.column_stack(
        [
            z["SYN_OLIGODENDROCYTE"] + z["SYN_STEMNESS"],
            z["SYN_NEURAL"] * 1.4,
            z["SYN_PROLIFERATION"] + z["SYN_ANGIOGENESIS"],
            z["SYN_EMT"] + z["SYN_INFLAMMATION"],
        ]
    ) + g.normal(0, 0.5, (n_patients, 4))
    sub_names = np.array(["Proneural", "Neural", "Classical", "Mesenchymal"])
    subtype = sub_names[np.argmax(sub_scores, axis=1)]
    pd.DataFrame(
        {
            "Case": patients,
            "IDH status": "WT",
            "Original Subtype": subtype,
            "Grade": "G4",
        }
    ).to_csv(paths["subtypes"], sep="\t", index=False, lineterminator="\n")

    # ---- gene sets: programmes (most of their genes plus a few unrelated ones) and decoys
    gmt_sets: dict[str, list[str]] = {}
    descr: dict[str, str] = {}
    for name, members in programmes.items():
        keep = sorted(g.choice(members, int(round(0.9 * len(members))), replace=False).tolist())
        extra_genes = [genes[i] for i in g.choice(free, max(2, len(members) // 10), replace=False)]
        gmt_sets[name] = sorted(keep + extra_genes)
        descr[name] = "synthetic programme"
    decoys = []
    for d in range(n_decoys):
        size = int(g.integers(15, min(120, len(free))))
        # Decoys hold no programme genes but for a few near-misses: a decoy drawn from all genes
        # would mix pieces of several programmes and, for a trait planted as an interaction,
        # legitimately out-mask either of its programmes alone, which blurs the planted truth.
        if d % 5 == 0:  # a near-miss: a tenth of one programme among unrelated genes
            prog = names[d // 5 % len(names)]
            part = g.choice(programmes[prog], max(2, len(programmes[prog]) // 10), replace=False)
            # diluted to at most a tenth of the decoy: a decoy that is mostly programme genes is
            # a sample of the programme (its genes are correlated, a handful carries the score)
            size = min(max(size, 10 * len(part)), len(free) + len(part))
            rest = [genes[i] for i in g.choice(free, size - len(part), replace=False)]
            members = sorted([*part.tolist(), *rest])
        else:
            members = sorted(genes[i] for i in g.choice(free, size, replace=False))
        dname = f"SYN_DECOY_{d + 1:02d}"
        gmt_sets[dname] = members
        descr[dname] = "decoy"
        decoys.append(dname)
    with open(paths["gene_sets"], "w", encoding="utf-8", newline="\n") as fh:
        for name, members in gmt_sets.items():
            fh.write("\t".join([name, descr[name], *members]) + "\n")

    # ---- latent truth per patient
    latent = pd.DataFrame(z_mat, index=pd.Index(patients, name="patient"), columns=names)
    for t, p in probs.items():
        latent[f"p_{t}"] = p
    latent[SURVIVAL_DRIVER] = drive
    latent["imaged"] = np.isin(np.arange(n_patients), imaged).astype(int)
    latent.round(6).to_csv(paths["latent"], sep="\t", lineterminator="\n", float_format="%.6f")

    truth = {
        "seed": seed,
        "n_patients": n_patients,
        "n_genes": n_genes,
        "scale": scale,
        "patients_with_imaging": int(len(imaged)),
        "patients_without_imaging": int(n_patients - len(imaged)),
        "patients_with_two_aliquots": sorted(patients[i] for i in doubles),
        "unknown_symbol_rows": n_unknown,
        "duplicated_symbol": genes[dup_gene],
        "files": {k: v for k, v in FILES.items()},
        "programmes": {
            name: {"genes": programmes[name], "gene_set": name, "size": len(programmes[name])}
            for name in names
        },
        "programme_correlations": [{"a": a, "b": b, "r": r} for (a, b), r in _CORRELATED.items()],
        "control_programmes": ["SYN_INTERFERON", "SYN_OXPHOS"],
        "decoy_sets": decoys,
        "traits": {
            t: {
                **rule,
                "column": _VASARI_COLUMNS[t],
                "positive_fraction": float(labels[t][imaged].mean()),
            }
            for t, rule in TRAIT_RULES.items()
        },
        "survival": {
            "driver": SURVIVAL_DRIVER,
            "driver_rule": "sigmoid(5 * (inflammation + 0.2)) * emt, standardised (the EMT drive "
            "of edema; a column of latent.tsv)",
            "os_log_hazard_per_sd": OS_LOG_HAZARD,
            "pfs_log_hazard_per_sd": PFS_LOG_HAZARD,
            "age_log_hazard_per_year": AGE_LOG_HAZARD,
            "baseline_median_days": {"os": 420, "pfs": 220},
            "direction": "stronger EMT drive of edema, shorter survival (hazard ratio > 1)",
        },
        "radiogenomic_links": [
            {
                "trait": "edema",
                "gene_set": "SYN_EMT",
                "name": "edema + SYN_EMT",
                "patients": "those in whom EMT pushes edema up (high edema_emt_drive)",
                "mechanism": "the hazards rise with the EMT drive of edema, sigmoid(5 "
                "(inflammation + 0.2)) * EMT; a patient's attribution of the edema prediction "
                "(integrated gradients from the cohort-mean profile) is enriched for SYN_EMT "
                "where EMT pushes edema up",
                "survival": "worse (hazard ratio > 1) for OS and PFS",
                "direction": "hazard_ratio>1",
            }
        ],
        "subtypes": {
            "Proneural": ["SYN_OLIGODENDROCYTE", "SYN_STEMNESS"],
            "Neural": ["SYN_NEURAL"],
            "Classical": ["SYN_PROLIFERATION", "SYN_ANGIOGENESIS"],
            "Mesenchymal": ["SYN_EMT", "SYN_INFLAMMATION"],
        },
    }
    paths["truth"].write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    return SyntheticCohort(out_dir=out, paths=paths, truth=truth)


def _write_vasari(path: Path, patients, imaged, labels, g: np.random.Generator) -> None:
    rows = []
    for i in imaged:
        pid = patients[i]
        row = {"": pid, "research.id": pid[4:], "scan.type": "pre-operative"}
        for trait, col in _VASARI_COLUMNS.items():
            kind = trait if trait in ("focal", "infiltrative") else "proportion"
            options = _LABELS[kind][int(labels[trait][i])]
            value = options[int(g.integers(len(options)))]
            u = g.random()
            if u < 0.015:
                value = "n/a"
            elif u < 0.025:
                value = ""
            elif u < 0.03 and kind == "proportion":
                value = "indeterminate"
            row[col] = value
        row["comments"] = ""
        row["study.date"] = ""
        rows.append(row)
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False, quoting=1, lineterminator="\n")


def _write_clinical(
    patient_path: Path,
    follow_path: Path,
    patients,
    age,
    gender,
    race,
    os_days,
    dead,
    pfs_days,
    prog,
    g: np.random.Generator,
) -> None:
    na, napp = "[Not Available]", "[Not Applicable]"
    header = [
        "bcr_patient_uuid",
        "bcr_patient_barcode",
        "gender",
        "birth_days_to",
        "race",
        "vital_status",
        "last_contact_days_to",
        "death_days_to",
        "age_at_initial_pathologic_diagnosis",
    ]
    cde = [
        "CDE_ID:",
        "CDE_ID:2003301",
        "CDE_ID:2200604",
        "CDE_ID:3008233",
        "CDE_ID:2192199",
        "CDE_ID:5",
        "CDE_ID:3008273",
        "CDE_ID:3165475",
        "CDE_ID:2006657",
    ]
    lines = ["\t".join(header), "\t".join(header), "\t".join(cde)]
    fu_rows = []
    for i, pid in enumerate(patients):
        uuid = f"00000000-0000-4000-8000-{i + 1:012d}"
        birth = str(int(-(age[i] * 365.25 + g.integers(0, 365))))
        early = g.random() < 0.5  # the patient form holds an early contact; a form the rest
        if early:
            first = int(max(1, round(os_days[i] * g.uniform(0.2, 0.9))))
            vital, last, death = "Alive", str(first), napp
        else:
            vital = "Dead" if dead[i] else "Alive"
            last = str(os_days[i]) if not dead[i] or g.random() < 0.7 else na
            death = str(os_days[i]) if dead[i] else napp
        lines.append(
            "\t".join([uuid, pid, gender[i], birth, race[i], vital, last, death, str(int(age[i]))])
        )
        nte = str(pfs_days[i]) if prog[i] else ""
        if prog[i] and g.random() < 0.2:
            nte = f"{pfs_days[i]}|{pfs_days[i] + int(g.integers(10, 200))}"
        fu_rows.append(
            {
                "bcr_patient_barcode": pid,
                "bcr_followup_barcode": f"{pid}-F{i + 1:05d}",
                "vital_status": "dead" if dead[i] else "alive",
                "days_to_death": str(os_days[i]) if dead[i] else "",
                "days_to_last_followup": str(os_days[i]),
                "new_tumor_event_after_initial_treatment": "",
                "days_to_new_tumor_event_after_initial_treatment": nte,
                "new_neoplasm_event_type": "progression of disease" if prog[i] else "",
                "person_neoplasm_cancer_status": "with tumor" if prog[i] else "tumor free",
            }
        )
    patient_path.write_text("\n".join(lines) + "\n")
    pd.DataFrame(fu_rows).to_csv(follow_path, sep="\t", index=False, lineterminator="\n")


def load_synthetic(out_dir: PathLike, name: str = "synthetic"):
    """Read a cohort written by :func:`generate_cohort` through the real readers."""
    from radiogenomics.data.cohort import Cohort

    out = Path(out_dir)
    return Cohort.load(
        out / FILES["expression"],
        traits=out / FILES["vasari"],
        subtypes=out / FILES["subtypes"],
        clinical=out / FILES["clinical"],
        follow_up=out / FILES["follow_up"],
        name=name,
    )


def read_truth(out_dir: PathLike) -> dict:
    """The planted links of a synthetic cohort (``truth.json``)."""
    p = Path(out_dir) / FILES["truth"]
    if not p.is_file():
        raise InputError("no truth.json here", file=p, expected="a synthetic cohort folder")
    return json.loads(p.read_text())


def read_latent(out_dir: PathLike) -> pd.DataFrame:
    """The true programme scores and trait probabilities per patient (``latent.tsv``)."""
    p = Path(out_dir) / FILES["latent"]
    return pd.read_csv(p, sep="\t", index_col=0)
