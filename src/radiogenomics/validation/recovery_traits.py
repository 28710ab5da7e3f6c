"""The driver-recovery benchmark's planted traits: what a trait is, how it is planted in the real
expression, the collections it is planted in, and the trait lists.

:func:`benchmark_traits` is the ``make bench`` list. :func:`holdout_traits` to
:func:`holdout7_traits` are further disjoint lists, each written before it was run, for
checking what was chosen on the lists before it; :func:`holdout8_traits` to
:func:`holdout14_traits` re-plant programmes in new traits (the last five run blind, with
three programme-network seeds); :func:`holdout15_traits` to :func:`holdout19_traits` plant
them through other parts of the programme (``drive``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from radiogenomics.data import read_gene_sets
from radiogenomics.errors import InputError
from radiogenomics.interpret.programmes import programme_scores
from radiogenomics.utils.seeding import rng
from radiogenomics.validation.planted import check_trait, plant_labels

#: Collections the traits are planted in, and the file each comes from (../shared/data).
COLLECTION_FILES = {
    "hallmark": "gene_sets/h.all.v6.2.symbols.gmt",
    "celltype": "gene_sets/puchalski2018_table_S15_celltypes.csv",
    "kegg": "gene_sets/c2.cp.v6.1.symbols.gmt",
}


#: What of a programme drives its traits: ``mean``, the mean z-score of all its expressed genes
#: (the programme score, the very input of the programme-level read-outs); ``core``, the mean
#: z-score of a random quarter of them, at least 8 (only part of the pathway moves with the
#: trait); ``pc1``, its genes' first principal component (the genes weighted by their share of
#: the set's main co-expression axis). The last two check whether the read-outs depend on the
#: planting using the statistic the programme network sees.
DRIVES = ("mean", "core", "pc1")


@dataclass(frozen=True)
class RecoveryTrait:
    """A planted trait: ``kind`` of function of the ``programmes`` (sets of ``collection``),
    Gaussian noise in SDs of the latent, the share of positive patients, the seed (noise, CV
    folds and a ``core`` drive's genes) and what of each programme drives it (``drive``, one of
    :data:`DRIVES`)."""

    name: str
    kind: str
    programmes: tuple[str, ...]
    collection: str
    noise: float = 0.5
    seed: int = 0
    positive_share: float = 1 / 3
    drive: str = "mean"

    def __post_init__(self) -> None:
        check_trait(self.kind, self.programmes, self.noise, self.positive_share)
        if self.drive not in DRIVES:
            raise InputError(f"drive {self.drive!r}", field="drive", expected=f"one of {DRIVES}")


def driving_scores(
    X: pd.DataFrame, sets: Mapping[str, Sequence[str]], trait: RecoveryTrait
) -> pd.DataFrame:
    """Patients x the trait's programmes: the score of each that drives the trait (``drive``)."""
    if trait.drive == "mean":
        return programme_scores(X, {p: sets[p] for p in trait.programmes})
    columns = set(map(str, X.columns))
    out = {}
    for p in trait.programmes:
        genes = [g for g in dict.fromkeys(map(str, sets[p])) if g in columns]
        genes = [g for g in genes if X[g].std() > 0]  # as the programme score ignores them
        if trait.drive == "core":
            pick = rng(trait.seed, "recovery-core", trait.name, p).permutation(len(genes))
            core = [genes[i] for i in np.sort(pick[: max(8, len(genes) // 4)])]
            out[p] = programme_scores(X, {p: core})[p]
        else:
            Z = X[genes].to_numpy(dtype=np.float64)
            Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
            pc = Z @ np.linalg.svd(Z, full_matrices=False)[2][0]
            # a component has no sign: orient it with the programme score
            out[p] = pc * np.sign(np.corrcoef(pc, Z.mean(axis=1))[0, 1])
    return pd.DataFrame(out, index=X.index)


def drive_match(
    X: pd.DataFrame,
    sets: Mapping[str, Sequence[str]],
    trait: RecoveryTrait,
    min_size: int = 15,
    max_size: int = 500,
) -> dict:
    """Whether the planted set is, by its programme score, the set that best matches its own
    drive: what a read-out of programme scores can name at best, before noise and learning.

    For each planted programme, the sets of ``sets`` with ``min_size``..``max_size`` expressed
    genes are ranked by the |correlation| over the patients of their programme score with the
    programme's noise-free drive (:func:`driving_scores`). ``drive_rank``: the planted set's
    rank (the best over the programmes; always 1 through ``mean``, whose drive is the score);
    ``drive_r``: its |r|; ``stand_in`` / ``stand_in_r``: the best other set and its |r|, for
    that programme. A ``drive_rank`` above 1 means another set's score is closer to the drive
    than the planted set's own: even without noise the data point at that set, and a read-out
    of programme scores that names it follows them."""
    columns = set(map(str, X.columns))
    eligible = {
        name: genes
        for name, genes in sets.items()
        if min_size <= len({str(g) for g in genes} & columns) <= max_size
    }
    eligible.update({p: sets[p] for p in trait.programmes})  # ranked whatever its size
    scores = programme_scores(X, eligible)
    drives = driving_scores(X, sets, trait)
    rows = []
    for p in trait.programmes:
        r = scores.corrwith(drives[p]).abs().fillna(0.0)
        others = r.drop(p)
        rows.append(
            {
                # ties go against the planted set: a stand-in as close as it is counts
                "drive_rank": int((others >= r[p]).sum()) + 1,
                "drive_r": float(r[p]),
                "stand_in": str(others.idxmax()) if len(others) else "",
                "stand_in_r": float(others.max()) if len(others) else np.nan,
            }
        )
    return min(rows, key=lambda row: row["drive_rank"])  # the first of the best programmes


def plant(scores: pd.DataFrame, trait: RecoveryTrait) -> pd.Series:
    """``present``/``absent`` labels: the top ``positive_share`` of f(programme scores) + noise
    (:func:`~radiogenomics.validation.planted.plant_labels`; noise from the trait's seed).

    step: 1[s1 above its (1 - share) quantile]; linear: the sum of the scores; and: min;
    xor: product (the two agree in sign); extremes: |s1| (both tails).
    """
    noise_rng = rng(trait.seed, "recovery-noise", trait.name)
    return plant_labels(
        scores,
        trait.name,
        trait.kind,
        trait.programmes,
        trait.noise,
        trait.positive_share,
        noise_rng,
    )


def load_collections(data_dir: str | Path) -> dict[str, dict[str, list[str]]]:
    """The benchmark's collections: hallmark (50), Puchalski cell types (21), KEGG (186, the
    KEGG part of the canonical pathways)."""
    out = {}
    for name, rel in COLLECTION_FILES.items():
        sets = read_gene_sets(Path(data_dir) / rel, name=name)
        items = {str(k): list(map(str, v)) for k, v in sets.items()}
        if name == "kegg":
            items = {k: v for k, v in items.items() if k.startswith("KEGG_")}
        out[name] = items
    return out


def gene_subset(
    X: pd.DataFrame, sets: Mapping[str, Sequence[str]], n_genes: int, seed: int = 0
) -> pd.DataFrame:
    """``X`` on the genes of ``sets`` plus random other genes, ``n_genes`` in all (for smoke
    runs: every set keeps its genes, so ranks among the sets mean the same)."""
    in_sets = [g for g in dict.fromkeys(g for v in sets.values() for g in v) if g in X.columns]
    others = [g for g in X.columns if g not in set(in_sets)]
    n_more = max(0, min(len(others), n_genes - len(in_sets)))
    pick = rng(seed, "recovery-genes").choice(len(others), size=n_more, replace=False)
    return X[in_sets + [others[i] for i in np.sort(pick)]]


def _h(name: str) -> str:
    return f"HALLMARK_{name}"


def benchmark_traits(quick: bool = False) -> list[RecoveryTrait]:
    """The benchmark's traits (24; ``quick``: 2). Programmes are fixed in advance, chosen to
    span large and small, correlated and isolated programmes of each collection."""
    H, C, K = "hallmark", "celltype", "kegg"
    traits = [
        RecoveryTrait("oxphos_step", "step", (_h("OXIDATIVE_PHOSPHORYLATION"),), H, 0.3),
        RecoveryTrait("ifng_step", "step", (_h("INTERFERON_GAMMA_RESPONSE"),), H, 0.5),
        RecoveryTrait("e2f_step_noisy", "step", (_h("E2F_TARGETS"),), H, 1.0, seed=1),
        RecoveryTrait("tnfa_step", "step", (_h("TNFA_SIGNALING_VIA_NFKB"),), H, 0.5, seed=3),
        RecoveryTrait("hypoxia_linear", "linear", (_h("HYPOXIA"),), H, 0.5),
        RecoveryTrait("emt_linear_noisy", "linear", (_h("EPITHELIAL_MESENCHYMAL_TRANSITION"),), H, 1.0, seed=2),
        RecoveryTrait(
            "emt_and_g2m", "and", (_h("EPITHELIAL_MESENCHYMAL_TRANSITION"), _h("G2M_CHECKPOINT")), H
        ),
        RecoveryTrait("myc_and_ifna", "and", (_h("MYC_TARGETS_V1"), _h("INTERFERON_ALPHA_RESPONSE")), H, seed=1),
        RecoveryTrait("oxphos_xor_emt", "xor", (_h("OXIDATIVE_PHOSPHORYLATION"), _h("EPITHELIAL_MESENCHYMAL_TRANSITION")), H, 0.3),
        RecoveryTrait("g2m_xor_hypoxia", "xor", (_h("G2M_CHECKPOINT"), _h("HYPOXIA")), H, 0.5, seed=1),
        RecoveryTrait("hypoxia_extremes", "extremes", (_h("HYPOXIA"),), H, 0.3),
        RecoveryTrait("cholesterol_extremes", "extremes", (_h("CHOLESTEROL_HOMEOSTASIS"),), H, 0.5, seed=2),
        RecoveryTrait("microglia_step", "step", ("Barres_microgliamacrophages",), C, 0.5),
        RecoveryTrait("replicating_linear", "linear", ("DarmanisBarres_FetalNeuronsreplicating",), C, 0.5, seed=1),
        RecoveryTrait("oligo_step_noisy", "step", ("Barres_oligodendrocytes",), C, 1.0, seed=2),
        RecoveryTrait("endo_and_hypoxia", "and", ("Barres_endothelial", "Patel_hypoxia"), C, 0.5),
        RecoveryTrait("neuron_extremes", "extremes", ("DarmanisBarres_Neurons",), C, 0.3, seed=1),
        RecoveryTrait("opc_xor_immune", "xor", ("DarmanisBarres_OPCs", "Patel_immune"), C, 0.3, seed=3),
        RecoveryTrait("ribosome_step", "step", ("KEGG_RIBOSOME",), K, 0.5),
        RecoveryTrait("ecm_linear", "linear", ("KEGG_ECM_RECEPTOR_INTERACTION",), K, 0.5, seed=1),
        RecoveryTrait("antigen_step_noisy", "step", ("KEGG_ANTIGEN_PROCESSING_AND_PRESENTATION",), K, 1.0, seed=2),
        RecoveryTrait("cellcycle_and_oxphos", "and", ("KEGG_CELL_CYCLE", "KEGG_OXIDATIVE_PHOSPHORYLATION"), K),
        RecoveryTrait("splice_linear2", "linear", ("KEGG_SPLICEOSOME", "KEGG_FOCAL_ADHESION"), K, 0.5, seed=3),
        RecoveryTrait("lysosome_extremes", "extremes", ("KEGG_LYSOSOME",), K, 0.3, seed=1),
    ]  # fmt: skip
    if quick:
        keep = ("oxphos_step", "microglia_step")
        return [t for t in traits if t.name in keep]
    return traits


def holdout_traits() -> list[RecoveryTrait]:
    """A second, disjoint list of traits (14) for checking read-outs chosen on
    :func:`benchmark_traits`: other programmes, functions mixed differently, other seeds.
    Fixed before any read-out was scored on them; never used to choose one."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("glycolysis_step", "step", (_h("GLYCOLYSIS"),), H, 0.5, seed=4),
        RecoveryTrait("il6_linear", "linear", (_h("IL6_JAK_STAT3_SIGNALING"),), H, 0.5, seed=5),
        RecoveryTrait("mtorc1_step_noisy", "step", (_h("MTORC1_SIGNALING"),), H, 1.0, seed=6),
        RecoveryTrait("junction_and_p53", "and", (_h("APICAL_JUNCTION"), _h("P53_PATHWAY")), H, 0.5, seed=7),
        RecoveryTrait("fatty_acid_extremes", "extremes", (_h("FATTY_ACID_METABOLISM"),), H, 0.3, seed=8),
        RecoveryTrait("inflammatory_step", "step", (_h("INFLAMMATORY_RESPONSE"),), H, 0.5, seed=9),
        RecoveryTrait("upr_linear_noisy", "linear", (_h("UNFOLDED_PROTEIN_RESPONSE"),), H, 0.8, seed=10),
        RecoveryTrait("astro_step", "step", ("Barres_matureastrocytes",), C, 0.5, seed=4),
        RecoveryTrait("barres_neuron_linear", "linear", ("Barres_neuron",), C, 0.7, seed=5),
        RecoveryTrait("gbmastro_and_anticycle", "and", ("Barres_GBMcoreastrocytes", "Patel_anticellcycle"), C, 0.5, seed=6),
        RecoveryTrait("proteasome_step", "step", ("KEGG_PROTEASOME",), K, 0.5, seed=4),
        RecoveryTrait("dna_replication_linear", "linear", ("KEGG_DNA_REPLICATION",), K, 0.7, seed=5),
        RecoveryTrait("complement_step_noisy", "step", ("KEGG_COMPLEMENT_AND_COAGULATION_CASCADES",), K, 1.0, seed=6),
        RecoveryTrait("purine_xor_cytokine", "xor", ("KEGG_PURINE_METABOLISM", "KEGG_CYTOKINE_CYTOKINE_RECEPTOR_INTERACTION"), K, 0.3, seed=7),
    ]  # fmt: skip


def holdout2_traits() -> list[RecoveryTrait]:
    """A third list (9) for the programme network, written after the first two lists had
    been used to choose it and before any read-out was scored on these: programmes used in
    neither list, seeds 11-19. Never used to choose."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("apoptosis_step", "step", (_h("APOPTOSIS"),), H, 0.5, seed=11),
        RecoveryTrait("coagulation_linear_noisy", "linear", (_h("COAGULATION"),), H, 0.8, seed=12),
        RecoveryTrait("myc2_and_kras", "and", (_h("MYC_TARGETS_V2"), _h("KRAS_SIGNALING_UP")), H, 0.5, seed=13),
        RecoveryTrait("heme_extremes", "extremes", (_h("HEME_METABOLISM"),), H, 0.3, seed=14),
        RecoveryTrait("fetal_astro_step", "step", ("Barres_fetalastrocytes",), C, 0.5, seed=15),
        RecoveryTrait("quiescent_and_microglia", "and", ("DarmanisBarres_FetalNeuronsquiescent", "DarmanisBarres_microglia"), C, 0.5, seed=16),
        RecoveryTrait("p53_step", "step", ("KEGG_P53_SIGNALING_PATHWAY",), K, 0.7, seed=17),
        RecoveryTrait("axon_linear", "linear", ("KEGG_AXON_GUIDANCE",), K, 0.5, seed=18),
        RecoveryTrait("toll_xor_peroxisome", "xor", ("KEGG_TOLL_LIKE_RECEPTOR_SIGNALING_PATHWAY", "KEGG_PEROXISOME"), K, 0.3, seed=19),
    ]  # fmt: skip


def holdout3_traits() -> list[RecoveryTrait]:
    """A fourth list (13) for the set-level read-out chosen on the first three lists, written
    before any read-out was scored on these: programmes used in no other list, seeds 21-33.
    Never used to choose."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("allograft_step", "step", (_h("ALLOGRAFT_REJECTION"),), H, 0.5, seed=21),
        RecoveryTrait("spindle_linear", "linear", (_h("MITOTIC_SPINDLE"),), H, 0.7, seed=22),
        RecoveryTrait("tgfb_step_noisy", "step", (_h("TGF_BETA_SIGNALING"),), H, 1.0, seed=23),
        RecoveryTrait("pi3k_and_complement", "and", (_h("PI3K_AKT_MTOR_SIGNALING"), _h("COMPLEMENT")), H, 0.5, seed=24),
        RecoveryTrait("xenobiotic_extremes", "extremes", (_h("XENOBIOTIC_METABOLISM"),), H, 0.3, seed=25),
        RecoveryTrait("uvdn_xor_il2", "xor", (_h("UV_RESPONSE_DN"), _h("IL2_STAT5_SIGNALING")), H, 0.3, seed=26),
        RecoveryTrait("darmanis_oligo_step", "step", ("DarmanisBarres_Oligodendrocytes",), C, 0.5, seed=27),
        RecoveryTrait("darmanis_astro_linear", "linear", ("DarmanisBarres_astrocytes",), C, 0.5, seed=28),
        RecoveryTrait("endo_and_mixopc", "and", ("DarmanisBarres_Endothelial", "DarmanisBarres_mixOPCOligNeurons"), C, 0.5, seed=29),
        RecoveryTrait("jakstat_step", "step", ("KEGG_JAK_STAT_SIGNALING_PATHWAY",), K, 0.5, seed=30),
        RecoveryTrait("pyrimidine_linear_noisy", "linear", ("KEGG_PYRIMIDINE_METABOLISM",), K, 0.8, seed=31),
        RecoveryTrait("mapk_and_glycolysis", "and", ("KEGG_MAPK_SIGNALING_PATHWAY", "KEGG_GLYCOLYSIS_GLUCONEOGENESIS"), K, 0.5, seed=32),
        RecoveryTrait("calcium_extremes", "extremes", ("KEGG_CALCIUM_SIGNALING_PATHWAY",), K, 0.3, seed=33),
    ]  # fmt: skip


def holdout4_traits() -> list[RecoveryTrait]:
    """A fifth list (12), written after the two-network consensus was adopted and before any
    read-out was scored on these: hallmark and KEGG programmes used in no other list (every
    cell-type set of 15+ expressed genes is planted in an earlier list), seeds 41-52. For
    checking the default on unseen traits; never used to choose."""
    H, K = "hallmark", "kegg"
    return [
        RecoveryTrait("dna_repair_step", "step", (_h("DNA_REPAIR"),), H, 0.5, seed=41),
        RecoveryTrait("adipogenesis_linear", "linear", (_h("ADIPOGENESIS"),), H, 0.7, seed=42),
        RecoveryTrait("uvup_step_noisy", "step", (_h("UV_RESPONSE_UP"),), H, 1.0, seed=43),
        RecoveryTrait("myogenesis_and_secretion", "and", (_h("MYOGENESIS"), _h("PROTEIN_SECRETION")), H, 0.5, seed=44),
        RecoveryTrait("peroxisome_extremes", "extremes", (_h("PEROXISOME"),), H, 0.3, seed=45),
        RecoveryTrait("estrogen_xor_krasdn", "xor", (_h("ESTROGEN_RESPONSE_EARLY"), _h("KRAS_SIGNALING_DN")), H, 0.3, seed=46),
        RecoveryTrait("chemokine_step", "step", ("KEGG_CHEMOKINE_SIGNALING_PATHWAY",), K, 0.5, seed=47),
        RecoveryTrait("rna_degradation_linear", "linear", ("KEGG_RNA_DEGRADATION",), K, 0.7, seed=48),
        RecoveryTrait("endocytosis_step_noisy", "step", ("KEGG_ENDOCYTOSIS",), K, 1.0, seed=49),
        RecoveryTrait("tight_and_glutathione", "and", ("KEGG_TIGHT_JUNCTION", "KEGG_GLUTATHIONE_METABOLISM"), K, 0.5, seed=50),
        RecoveryTrait("neuroactive_extremes", "extremes", ("KEGG_NEUROACTIVE_LIGAND_RECEPTOR_INTERACTION",), K, 0.3, seed=51),
        RecoveryTrait("oocyte_linear_noisy", "linear", ("KEGG_OOCYTE_MEIOSIS",), K, 0.8, seed=52),
    ]  # fmt: skip


def holdout5_traits() -> list[RecoveryTrait]:
    """A sixth list (14), written before any read-out was scored on these, to choose between
    the current consensus and one candidate named in advance (docs/results.md, "Ranked at
    the programme level"): hallmark and KEGG programmes used in no other list, seeds 61-74,
    and positive shares of 1/4 and 2/5 beside the usual 1/3."""
    H, K = "hallmark", "kegg"
    return [
        RecoveryTrait("wnt_step", "step", (_h("WNT_BETA_CATENIN_SIGNALING"),), H, 0.5, seed=61),
        RecoveryTrait("angiogenesis_linear", "linear", (_h("ANGIOGENESIS"),), H, 0.7, seed=62),
        RecoveryTrait("ros_step_noisy", "step", (_h("REACTIVE_OXIGEN_SPECIES_PATHWAY"),), H, 1.0, seed=63, positive_share=0.25),
        RecoveryTrait("androgen_and_notch", "and", (_h("ANDROGEN_RESPONSE"), _h("NOTCH_SIGNALING")), H, 0.5, seed=64),
        RecoveryTrait("estrogen_late_linear", "linear", (_h("ESTROGEN_RESPONSE_LATE"),), H, 0.5, seed=65, positive_share=0.4),
        RecoveryTrait("bile_acid_extremes", "extremes", (_h("BILE_ACID_METABOLISM"),), H, 0.3, seed=66),
        RecoveryTrait("hedgehog_xor_apical", "xor", (_h("HEDGEHOG_SIGNALING"), _h("APICAL_SURFACE")), H, 0.3, seed=67),
        RecoveryTrait("tca_step", "step", ("KEGG_CITRATE_CYCLE_TCA_CYCLE",), K, 0.5, seed=68),
        RecoveryTrait("tcr_linear_noisy", "linear", ("KEGG_T_CELL_RECEPTOR_SIGNALING_PATHWAY",), K, 0.8, seed=69),
        RecoveryTrait("glioma_step", "step", ("KEGG_GLIOMA",), K, 0.7, seed=70, positive_share=0.25),
        RecoveryTrait("ubiquitin_and_nk", "and", ("KEGG_UBIQUITIN_MEDIATED_PROTEOLYSIS", "KEGG_NATURAL_KILLER_CELL_MEDIATED_CYTOTOXICITY"), K, 0.5, seed=71),
        RecoveryTrait("actin_linear", "linear", ("KEGG_REGULATION_OF_ACTIN_CYTOSKELETON",), K, 0.5, seed=72, positive_share=0.4),
        RecoveryTrait("ppar_extremes", "extremes", ("KEGG_PPAR_SIGNALING_PATHWAY",), K, 0.3, seed=73),
        RecoveryTrait("polymerase_linear2", "linear", ("KEGG_RNA_POLYMERASE", "KEGG_GAP_JUNCTION"), K, 0.5, seed=74),
    ]  # fmt: skip


def holdout6_traits() -> list[RecoveryTrait]:
    """A seventh list (14), written after the sixth list's choice and the forward-order
    refinement that followed it, before any read-out was scored on these: to check the
    final consensus against the targets on unseen traits (docs/results.md, "Ranked at the
    programme level"). KEGG and the last hallmark programmes used in no other list, seeds
    81-94."""
    H, K = "hallmark", "kegg"
    return [
        RecoveryTrait("spermatogenesis_step", "step", (_h("SPERMATOGENESIS"),), H, 0.5, seed=81),
        RecoveryTrait("pancreas_beta_linear", "linear", (_h("PANCREAS_BETA_CELLS"),), H, 0.7, seed=82),
        RecoveryTrait("kegg_apoptosis_step", "step", ("KEGG_APOPTOSIS",), K, 0.5, seed=83),
        RecoveryTrait("vegf_linear", "linear", ("KEGG_VEGF_SIGNALING_PATHWAY",), K, 0.7, seed=84),
        RecoveryTrait("ber_step_noisy", "step", ("KEGG_BASE_EXCISION_REPAIR",), K, 1.0, seed=85),
        RecoveryTrait("cams_step", "step", ("KEGG_CELL_ADHESION_MOLECULES_CAMS",), K, 0.5, seed=86, positive_share=0.25),
        RecoveryTrait("trna_linear", "linear", ("KEGG_AMINOACYL_TRNA_BIOSYNTHESIS",), K, 0.5, seed=87, positive_share=0.4),
        RecoveryTrait("wnt_and_pyruvate", "and", ("KEGG_WNT_SIGNALING_PATHWAY", "KEGG_PYRUVATE_METABOLISM"), K, 0.5, seed=88),
        RecoveryTrait("notch_and_hematopoietic", "and", ("KEGG_NOTCH_SIGNALING_PATHWAY", "KEGG_HEMATOPOIETIC_CELL_LINEAGE"), K, 0.5, seed=89),
        RecoveryTrait("lysine_xor_insulin", "xor", ("KEGG_LYSINE_DEGRADATION", "KEGG_INSULIN_SIGNALING_PATHWAY"), K, 0.3, seed=90),
        RecoveryTrait("glycerophospholipid_extremes", "extremes", ("KEGG_GLYCEROPHOSPHOLIPID_METABOLISM",), K, 0.3, seed=91),
        RecoveryTrait("arginine_extremes", "extremes", ("KEGG_ARGININE_AND_PROLINE_METABOLISM",), K, 0.3, seed=92),
        RecoveryTrait("ner_leukocyte_linear2", "linear", ("KEGG_NUCLEOTIDE_EXCISION_REPAIR", "KEGG_LEUKOCYTE_TRANSENDOTHELIAL_MIGRATION"), K, 0.5, seed=93),
        RecoveryTrait("mtor_linear_noisy", "linear", ("KEGG_MTOR_SIGNALING_PATHWAY",), K, 0.8, seed=94),
    ]  # fmt: skip


def holdout7_traits() -> list[RecoveryTrait]:
    """An eighth list (14), written with its check (docs/results.md, "An eighth list") before
    any read-out was scored on these: the default consensus, unchanged since the seventh list,
    against the targets on traits no choice has seen. Every hallmark and cell-type programme
    is planted in an earlier list, so this one is KEGG only; seeds 101-114."""
    K = "kegg"
    return [
        RecoveryTrait("erbb_step", "step", ("KEGG_ERBB_SIGNALING_PATHWAY",), K, 0.5, seed=101),
        RecoveryTrait("nod_step_noisy", "step", ("KEGG_NOD_LIKE_RECEPTOR_SIGNALING_PATHWAY",), K, 1.0, seed=102),
        RecoveryTrait("recombination_step", "step", ("KEGG_HOMOLOGOUS_RECOMBINATION",), K, 0.5, seed=103, positive_share=0.25),
        RecoveryTrait("melanogenesis_step", "step", ("KEGG_MELANOGENESIS",), K, 0.7, seed=104),
        RecoveryTrait("neurotrophin_linear", "linear", ("KEGG_NEUROTROPHIN_SIGNALING_PATHWAY",), K, 0.5, seed=105),
        RecoveryTrait("phagocytosis_linear", "linear", ("KEGG_FC_GAMMA_R_MEDIATED_PHAGOCYTOSIS",), K, 0.7, seed=106, positive_share=0.4),
        RecoveryTrait("valine_linear_noisy", "linear", ("KEGG_VALINE_LEUCINE_AND_ISOLEUCINE_DEGRADATION",), K, 0.8, seed=107),
        RecoveryTrait("mismatch_and_adherens", "and", ("KEGG_MISMATCH_REPAIR", "KEGG_ADHERENS_JUNCTION"), K, 0.5, seed=108),
        RecoveryTrait("bcr_and_sphingolipid", "and", ("KEGG_B_CELL_RECEPTOR_SIGNALING_PATHWAY", "KEGG_SPHINGOLIPID_METABOLISM"), K, 0.5, seed=109),
        RecoveryTrait("tgfb_and_nglycan", "and", ("KEGG_TGF_BETA_SIGNALING_PATHWAY", "KEGG_N_GLYCAN_BIOSYNTHESIS"), K, 0.5, seed=110),
        RecoveryTrait("export_potentiation_linear2", "linear", ("KEGG_PROTEIN_EXPORT", "KEGG_LONG_TERM_POTENTIATION"), K, 0.5, seed=111),
        RecoveryTrait("pentose_xor_rig", "xor", ("KEGG_PENTOSE_PHOSPHATE_PATHWAY", "KEGG_RIG_I_LIKE_RECEPTOR_SIGNALING_PATHWAY"), K, 0.3, seed=112),
        RecoveryTrait("amino_sugar_extremes", "extremes", ("KEGG_AMINO_SUGAR_AND_NUCLEOTIDE_SUGAR_METABOLISM",), K, 0.3, seed=113),
        RecoveryTrait("inositol_extremes", "extremes", ("KEGG_INOSITOL_PHOSPHATE_METABOLISM",), K, 0.3, seed=114),
    ]  # fmt: skip


def holdout8_traits() -> list[RecoveryTrait]:
    """A ninth list (14), written with its check before any read-out was scored on these: the
    default consensus, unchanged since the seventh list, against the targets; nothing is
    changed whatever it shows. Unlike the earlier lists it plants programmes planted before
    (every hallmark set is), in new functions, pairs, noise levels and seeds: the situation of
    a user's study, whose programmes the defaults may have met in other traits. Hallmark only,
    drawn at random: the programmes are ``numpy.random.default_rng(121).permutation`` of the
    50 hallmark sets with 15-500 expressed genes, taken in order (none twice; a set that would
    repeat an earlier list's trait, same function and programmes, is left for the next
    trait), each trait's noise drawn from (0.3, 0.5, 0.7, 1.0) after its programmes; the
    functions were fixed before the draw (4 step, 3 linear, 3 and, 2 extremes, 1 xor, 1
    two-programme linear); a third of patients positive; seeds 121-134."""
    H = "hallmark"
    return [
        RecoveryTrait("pi3k_step_noisy", "step", ("HALLMARK_PI3K_AKT_MTOR_SIGNALING",), H, 1.0, seed=121),
        RecoveryTrait("cholesterol_step", "step", ("HALLMARK_CHOLESTEROL_HOMEOSTASIS",), H, 0.5, seed=122),
        RecoveryTrait("kras_up_step", "step", ("HALLMARK_KRAS_SIGNALING_UP",), H, 0.5, seed=123),
        RecoveryTrait("apical_surface_step_noisy", "step", ("HALLMARK_APICAL_SURFACE",), H, 1.0, seed=124),
        RecoveryTrait("uv_up_linear", "linear", ("HALLMARK_UV_RESPONSE_UP",), H, 0.5, seed=125),
        RecoveryTrait("fatty_acid_linear", "linear", ("HALLMARK_FATTY_ACID_METABOLISM",), H, 0.3, seed=126),
        RecoveryTrait("g2m_linear", "linear", ("HALLMARK_G2M_CHECKPOINT",), H, 0.7, seed=127),
        RecoveryTrait("myc2_and_coagulation", "and", ("HALLMARK_MYC_TARGETS_V2", "HALLMARK_COAGULATION"), H, 0.3, seed=128),
        RecoveryTrait("uvdn_and_e2f_noisy", "and", ("HALLMARK_UV_RESPONSE_DN", "HALLMARK_E2F_TARGETS"), H, 1.0, seed=129),
        RecoveryTrait("junction_and_glycolysis", "and", ("HALLMARK_APICAL_JUNCTION", "HALLMARK_GLYCOLYSIS"), H, 0.5, seed=130),
        RecoveryTrait("upr_extremes", "extremes", ("HALLMARK_UNFOLDED_PROTEIN_RESPONSE",), H, 0.5, seed=131),
        RecoveryTrait("myc1_extremes_noisy", "extremes", ("HALLMARK_MYC_TARGETS_V1",), H, 1.0, seed=132),
        RecoveryTrait("ifna_xor_ros", "xor", ("HALLMARK_INTERFERON_ALPHA_RESPONSE", "HALLMARK_REACTIVE_OXIGEN_SPECIES_PATHWAY"), H, 1.0, seed=133),
        RecoveryTrait("wnt_tgfb_linear2", "linear", ("HALLMARK_WNT_BETA_CATENIN_SIGNALING", "HALLMARK_TGF_BETA_SIGNALING"), H, 0.3, seed=134),
    ]  # fmt: skip


def holdout9_traits() -> list[RecoveryTrait]:
    """A tenth list (14), written with its check before any read-out was scored on these: the
    floating forward order (the default from this list on) against the greedy order it
    replaced, and the default against the targets; nothing is changed whatever it shows. Half
    hallmark, half KEGG, drawn at random: the functions were fixed first (hallmark: step,
    linear, and, and, two-programme linear, extremes, step; KEGG: step, linear, linear, and,
    and, two-programme linear, xor), then each collection's programmes were taken in the
    order of one ``numpy.random.default_rng(141)`` permutation of its sets with 15-500
    expressed genes (hallmark first, none twice; a set that would repeat an earlier list's
    trait is left for the next), each trait's noise drawn from (0.3, 0.5, 0.7, 1.0) after its
    programmes; a third of patients positive; seeds 141-154."""
    H, K = "hallmark", "kegg"
    return [
        RecoveryTrait("peroxisome_step", "step", ("HALLMARK_PEROXISOME",), H, 0.3, seed=141),
        RecoveryTrait("ifng_linear_noisy", "linear", ("HALLMARK_INTERFERON_GAMMA_RESPONSE",), H, 1.0, seed=142),
        RecoveryTrait("estrogen_late_and_bile_noisy", "and", ("HALLMARK_ESTROGEN_RESPONSE_LATE", "HALLMARK_BILE_ACID_METABOLISM"), H, 1.0, seed=143),
        RecoveryTrait("estrogen_early_and_cholesterol", "and", ("HALLMARK_ESTROGEN_RESPONSE_EARLY", "HALLMARK_CHOLESTEROL_HOMEOSTASIS"), H, 0.5, seed=144),
        RecoveryTrait("wnt_complement_linear2", "linear", ("HALLMARK_WNT_BETA_CATENIN_SIGNALING", "HALLMARK_COMPLEMENT"), H, 0.5, seed=145),
        RecoveryTrait("apoptosis_extremes", "extremes", ("HALLMARK_APOPTOSIS",), H, 0.5, seed=146),
        RecoveryTrait("coagulation_step_noisy", "step", ("HALLMARK_COAGULATION",), H, 1.0, seed=147),
        RecoveryTrait("unsaturated_fa_step_noisy", "step", ("KEGG_BIOSYNTHESIS_OF_UNSATURATED_FATTY_ACIDS",), K, 1.0, seed=148),
        RecoveryTrait("lysine_linear_noisy", "linear", ("KEGG_LYSINE_DEGRADATION",), K, 1.0, seed=149),
        RecoveryTrait("gvhd_linear", "linear", ("KEGG_GRAFT_VERSUS_HOST_DISEASE",), K, 0.3, seed=150),
        RecoveryTrait("meiosis_and_polymerase", "and", ("KEGG_OOCYTE_MEIOSIS", "KEGG_RNA_POLYMERASE"), K, 0.3, seed=151),
        RecoveryTrait("neurotrophin_and_nk_noisy", "and", ("KEGG_NEUROTROPHIN_SIGNALING_PATHWAY", "KEGG_NATURAL_KILLER_CELL_MEDIATED_CYTOTOXICITY"), K, 1.0, seed=152),
        RecoveryTrait("endocytosis_diabetes_linear2", "linear", ("KEGG_ENDOCYTOSIS", "KEGG_TYPE_II_DIABETES_MELLITUS"), K, 0.3, seed=153),
        RecoveryTrait("oglycan_xor_cams", "xor", ("KEGG_O_GLYCAN_BIOSYNTHESIS", "KEGG_CELL_ADHESION_MOLECULES_CAMS"), K, 0.3, seed=154),
    ]  # fmt: skip


def holdout10_traits() -> list[RecoveryTrait]:
    """An eleventh list (14), written with its check before any read-out was scored on these:
    the default consensus, with its programme network from three seeds (``consensus`` and the
    ``consensus_seed2``/``_seed3`` rows), against the targets; nothing is changed whatever it
    shows. Hallmark, cell-type and KEGG, drawn at random: the functions were fixed first
    (hallmark: step, linear, and, two-programme linear, extremes; cell types: step, linear, and,
    step; KEGG: step, linear, and, two-programme linear, and), then each collection's
    programmes were taken in the order of one ``numpy.random.default_rng(161)`` permutation of
    its sets with 15-500 expressed genes (hallmark, cell types, KEGG; none twice; a set that
    would repeat an earlier list's trait is left for the next), each trait's noise drawn from
    (0.3, 0.5, 0.7, 1.0) after its programmes; a third of patients positive; seeds 161-174."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("xenobiotic_step", "step", (_h("XENOBIOTIC_METABOLISM"),), H, 0.7, seed=161),
        RecoveryTrait("androgen_linear_noisy", "linear", (_h("ANDROGEN_RESPONSE"),), H, 1.0, seed=162),
        RecoveryTrait("secretion_and_adipogenesis", "and", (_h("PROTEIN_SECRETION"), _h("ADIPOGENESIS")), H, 0.3, seed=163),
        RecoveryTrait("myc2_hypoxia_linear2", "linear", (_h("MYC_TARGETS_V2"), _h("HYPOXIA")), H, 0.7, seed=164),
        RecoveryTrait("tnfa_extremes", "extremes", (_h("TNFA_SIGNALING_VIA_NFKB"),), H, 0.7, seed=165),
        RecoveryTrait("opc_step", "step", ("DarmanisBarres_OPCs",), C, 0.5, seed=166),
        RecoveryTrait("mixopc_linear", "linear", ("DarmanisBarres_mixOPCOligNeurons",), C, 0.3, seed=167),
        RecoveryTrait("gbmastro_and_neuron", "and", ("Barres_GBMcoreastrocytes", "Barres_neuron"), C, 0.3, seed=168),
        RecoveryTrait("patel_hypoxia_step", "step", ("Patel_hypoxia",), C, 0.5, seed=169),
        RecoveryTrait("asthma_step", "step", ("KEGG_ASTHMA",), K, 0.7, seed=170),
        RecoveryTrait("dorsoventral_linear", "linear", ("KEGG_DORSO_VENTRAL_AXIS_FORMATION",), K, 0.5, seed=171),
        RecoveryTrait("purine_and_tyrosine_noisy", "and", ("KEGG_PURINE_METABOLISM", "KEGG_TYROSINE_METABOLISM"), K, 1.0, seed=172),
        RecoveryTrait("endocytosis_lysosome_linear2_noisy", "linear", ("KEGG_ENDOCYTOSIS", "KEGG_LYSOSOME"), K, 1.0, seed=173),
        RecoveryTrait("gnrh_and_gap_junction", "and", ("KEGG_GNRH_SIGNALING_PATHWAY", "KEGG_GAP_JUNCTION"), K, 0.3, seed=174),
    ]  # fmt: skip


def holdout11_traits() -> list[RecoveryTrait]:
    """A twelfth list (14), written with its check before any read-out was scored on these:
    the default consensus, with its programme network from three seeds (``consensus`` and the
    ``consensus_seed2``/``_seed3`` rows), against the targets; nothing is changed whatever it
    shows. The functions of the eleventh list (hallmark: step, linear, and, two-programme
    linear, extremes; cell types: step, linear, and, step; KEGG: step, linear, and,
    two-programme linear, and), then each collection's programmes in the order of one
    ``numpy.random.default_rng(181)`` permutation of its sets with 15-500 expressed genes
    (hallmark, cell types, KEGG; none twice; sets never planted before first, and every
    hallmark and cell-type set had been; a draw that would repeat an earlier trait, the same
    function of the same programmes, is left for the next), each trait's noise drawn from
    (0.3, 0.5, 0.7, 1.0) after its programmes; a third of patients positive; seeds 181-194."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("notch_step", "step", (_h("NOTCH_SIGNALING"),), H, 0.7, seed=181),
        RecoveryTrait("spermatogenesis_linear", "linear", (_h("SPERMATOGENESIS"),), H, 0.7, seed=182),
        RecoveryTrait("estrogen_early_and_wnt", "and", (_h("ESTROGEN_RESPONSE_EARLY"), _h("WNT_BETA_CATENIN_SIGNALING")), H, 0.5, seed=183),
        RecoveryTrait("hedgehog_xenobiotic_linear2", "linear", (_h("HEDGEHOG_SIGNALING"), _h("XENOBIOTIC_METABOLISM")), H, 0.3, seed=184),
        RecoveryTrait("uv_up_extremes_noisy", "extremes", (_h("UV_RESPONSE_UP"),), H, 1.0, seed=185),
        RecoveryTrait("astrocyte_step", "step", ("DarmanisBarres_astrocytes",), C, 0.5, seed=186),
        RecoveryTrait("patel_hypoxia_linear", "linear", ("Patel_hypoxia",), C, 0.7, seed=187),
        RecoveryTrait("oligo_and_microglia_noisy", "and", ("DarmanisBarres_Oligodendrocytes", "Barres_microgliamacrophages"), C, 1.0, seed=188),
        RecoveryTrait("fetal_replicating_step", "step", ("DarmanisBarres_FetalNeuronsreplicating",), C, 0.3, seed=189),
        RecoveryTrait("prion_step", "step", ("KEGG_PRION_DISEASES",), K, 0.5, seed=190),
        RecoveryTrait("glycine_linear_noisy", "linear", ("KEGG_GLYCINE_SERINE_AND_THREONINE_METABOLISM",), K, 1.0, seed=191),
        RecoveryTrait("alanine_and_nicotinate_noisy", "and", ("KEGG_BETA_ALANINE_METABOLISM", "KEGG_NICOTINATE_AND_NICOTINAMIDE_METABOLISM"), K, 1.0, seed=192),
        RecoveryTrait("ether_lipid_fceri_linear2_noisy", "linear", ("KEGG_ETHER_LIPID_METABOLISM", "KEGG_FC_EPSILON_RI_SIGNALING_PATHWAY"), K, 1.0, seed=193),
        RecoveryTrait("arachidonic_and_folate", "and", ("KEGG_ARACHIDONIC_ACID_METABOLISM", "KEGG_ONE_CARBON_POOL_BY_FOLATE"), K, 0.7, seed=194),
    ]  # fmt: skip


def holdout12_traits() -> list[RecoveryTrait]:
    """A thirteenth list (14), written with its check before any read-out was scored on these,
    after the forward order's stop was adopted: the default consensus, with its programme
    network from three seeds (``consensus`` and the ``consensus_seed2``/``_seed3`` rows),
    against the targets; nothing is changed whatever it shows. Drawn as the twelfth list was
    (its functions; each collection's programmes in the order of one
    ``numpy.random.default_rng(201)`` permutation of its sets with 15-500 expressed genes, sets
    never planted before first, a draw that would repeat an earlier trait left for the next;
    noise from (0.3, 0.5, 0.7, 1.0)); a third of patients positive; seeds 201-214."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("myogenesis_step", "step", (_h("MYOGENESIS"),), H, 0.7, seed=201),
        RecoveryTrait("kras_up_linear", "linear", (_h("KRAS_SIGNALING_UP"),), H, 0.7, seed=202),
        RecoveryTrait("complement_and_bile", "and", (_h("COMPLEMENT"), _h("BILE_ACID_METABOLISM")), H, 0.7, seed=203),
        RecoveryTrait("oxphos_spindle_linear2", "linear", (_h("OXIDATIVE_PHOSPHORYLATION"), _h("MITOTIC_SPINDLE")), H, 0.5, seed=204),
        RecoveryTrait("g2m_extremes_noisy", "extremes", (_h("G2M_CHECKPOINT"),), H, 1.0, seed=205),
        RecoveryTrait("anticellcycle_step", "step", ("Patel_anticellcycle",), C, 0.7, seed=206),
        RecoveryTrait("gbmastro_linear", "linear", ("Barres_GBMcoreastrocytes",), C, 0.5, seed=207),
        RecoveryTrait("quiescent_and_neuron", "and", ("DarmanisBarres_FetalNeuronsquiescent", "Barres_neuron"), C, 0.3, seed=208),
        RecoveryTrait("darmanis_neuron_step", "step", ("DarmanisBarres_Neurons",), C, 0.7, seed=209),
        RecoveryTrait("selenoamino_step", "step", ("KEGG_SELENOAMINO_ACID_METABOLISM",), K, 0.5, seed=210),
        RecoveryTrait("aldosterone_linear", "linear", ("KEGG_ALDOSTERONE_REGULATED_SODIUM_REABSORPTION",), K, 0.7, seed=211),
        RecoveryTrait("endometrial_and_arvc", "and", ("KEGG_ENDOMETRIAL_CANCER", "KEGG_ARRHYTHMOGENIC_RIGHT_VENTRICULAR_CARDIOMYOPATHY_ARVC"), K, 0.3, seed=212),
        RecoveryTrait("histidine_hcm_linear2", "linear", ("KEGG_HISTIDINE_METABOLISM", "KEGG_HYPERTROPHIC_CARDIOMYOPATHY_HCM"), K, 0.5, seed=213),
        RecoveryTrait("alzheimers_and_nitrogen", "and", ("KEGG_ALZHEIMERS_DISEASE", "KEGG_NITROGEN_METABOLISM"), K, 0.5, seed=214),
    ]  # fmt: skip


def holdout13_traits() -> list[RecoveryTrait]:
    """A fourteenth list (14), written with its check before any read-out was scored on these,
    after the held-out forward places were measured on the thirteen lists before it: the
    default consensus, with its programme network from three seeds, against the targets;
    nothing is changed whatever it shows. Drawn as the thirteenth list was, from one
    ``numpy.random.default_rng(221)`` permutation of each collection; seeds 221-234."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("ifna_step", "step", (_h("INTERFERON_ALPHA_RESPONSE"),), H, 0.7, seed=221),
        RecoveryTrait("mtorc1_linear", "linear", (_h("MTORC1_SIGNALING"),), H, 0.5, seed=222),
        RecoveryTrait("il2_and_g2m_noisy", "and", (_h("IL2_STAT5_SIGNALING"), _h("G2M_CHECKPOINT")), H, 1.0, seed=223),
        RecoveryTrait("ifng_adipogenesis_linear2", "linear", (_h("INTERFERON_GAMMA_RESPONSE"), _h("ADIPOGENESIS")), H, 0.7, seed=224),
        RecoveryTrait("hedgehog_extremes", "extremes", (_h("HEDGEHOG_SIGNALING"),), H, 0.7, seed=225),
        RecoveryTrait("microglia_step_noisy", "step", ("DarmanisBarres_microglia",), C, 1.0, seed=226),
        RecoveryTrait("oligodendrocyte_linear_noisy", "linear", ("Barres_oligodendrocytes",), C, 1.0, seed=227),
        RecoveryTrait("endothelial_and_gbmastro", "and", ("DarmanisBarres_Endothelial", "Barres_GBMcoreastrocytes"), C, 0.5, seed=228),
        RecoveryTrait("quiescent_step", "step", ("DarmanisBarres_FetalNeuronsquiescent",), C, 0.5, seed=229),
        RecoveryTrait("ltd_step", "step", ("KEGG_LONG_TERM_DEPRESSION",), K, 0.5, seed=230),
        RecoveryTrait("cancer_pathways_linear", "linear", ("KEGG_PATHWAYS_IN_CANCER",), K, 0.7, seed=231),
        RecoveryTrait("starch_and_aml", "and", ("KEGG_STARCH_AND_SUCROSE_METABOLISM", "KEGG_ACUTE_MYELOID_LEUKEMIA"), K, 0.7, seed=232),
        RecoveryTrait("dna_sensing_drug_linear2", "linear", ("KEGG_CYTOSOLIC_DNA_SENSING_PATHWAY", "KEGG_DRUG_METABOLISM_OTHER_ENZYMES"), K, 0.7, seed=233),
        RecoveryTrait("pancreatic_and_dcm", "and", ("KEGG_PANCREATIC_CANCER", "KEGG_DILATED_CARDIOMYOPATHY"), K, 0.3, seed=234),
    ]  # fmt: skip


def holdout14_traits() -> list[RecoveryTrait]:
    """A fifteenth list (14), written with its check before any read-out was scored on these,
    after two more orderings of the sets behind the forward order were measured on the
    fourteen lists before it and not adopted: the default consensus, unchanged, with its
    programme network from three seeds, against the targets; nothing is changed whatever it
    shows. Drawn as the thirteenth list was, from one ``numpy.random.default_rng(235)``
    permutation of each collection; seeds 235-248."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("hedgehog_step", "step", (_h("HEDGEHOG_SIGNALING"),), H, 0.3, seed=235),
        RecoveryTrait("tgfb_linear_noisy", "linear", (_h("TGF_BETA_SIGNALING"),), H, 1.0, seed=236),
        RecoveryTrait("coagulation_and_myogenesis_noisy", "and", (_h("COAGULATION"), _h("MYOGENESIS")), H, 1.0, seed=237),
        RecoveryTrait("ifna_heme_linear2_noisy", "linear", (_h("INTERFERON_ALPHA_RESPONSE"), _h("HEME_METABOLISM")), H, 1.0, seed=238),
        RecoveryTrait("kras_dn_extremes", "extremes", (_h("KRAS_SIGNALING_DN"),), H, 0.7, seed=239),
        RecoveryTrait("gbm_astrocyte_step", "step", ("Barres_GBMcoreastrocytes",), C, 0.5, seed=240),
        RecoveryTrait("microglia_macrophage_linear", "linear", ("Barres_microgliamacrophages",), C, 0.5, seed=241),
        RecoveryTrait("patel_hypoxia_and_neurons", "and", ("Patel_hypoxia", "DarmanisBarres_Neurons"), C, 0.7, seed=242),
        RecoveryTrait("barres_endothelial_step", "step", ("Barres_endothelial",), C, 0.5, seed=243),
        RecoveryTrait("fatty_acid_step", "step", ("KEGG_FATTY_ACID_METABOLISM",), K, 0.7, seed=244),
        RecoveryTrait("snare_linear", "linear", ("KEGG_SNARE_INTERACTIONS_IN_VESICULAR_TRANSPORT",), K, 0.3, seed=245),
        RecoveryTrait("chondroitin_and_myocarditis", "and", ("KEGG_GLYCOSAMINOGLYCAN_BIOSYNTHESIS_CHONDROITIN_SULFATE", "KEGG_VIRAL_MYOCARDITIS"), K, 0.3, seed=246),
        RecoveryTrait("abc_alanine_linear2", "linear", ("KEGG_ABC_TRANSPORTERS", "KEGG_ALANINE_ASPARTATE_AND_GLUTAMATE_METABOLISM"), K, 0.3, seed=247),
        RecoveryTrait("fructose_and_cml_noisy", "and", ("KEGG_FRUCTOSE_AND_MANNOSE_METABOLISM", "KEGG_CHRONIC_MYELOID_LEUKEMIA"), K, 1.0, seed=248),
    ]  # fmt: skip


def holdout15_traits() -> list[RecoveryTrait]:
    """A sixteenth list (14), the first planted through another drive: each programme drives
    its trait through its genes' first principal component (``drive="pc1"``), not the
    programme score that the programme network is given (their correlation over the patients
    is 0.58-1.00 on the sets looked at while writing this: 0.58 for hallmark oxidative
    phosphorylation, 0.70 for KEGG p53 signalling, 0.97-1.00 for coherent sets). Written with
    its check before any read-out was scored on these: the default consensus, unchanged, with
    its programme network from three seeds, against the targets; nothing is changed whatever
    it shows. Drawn as the thirteenth list was, from one ``numpy.random.default_rng(249)``
    permutation of each collection; seeds 249-262."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("myc2_step_pc1", "step", (_h("MYC_TARGETS_V2"),), H, 0.7, seed=249, drive="pc1"),
        RecoveryTrait("il2_linear_pc1", "linear", (_h("IL2_STAT5_SIGNALING"),), H, 0.3, seed=250, drive="pc1"),
        RecoveryTrait("e2f_and_tnfa_noisy_pc1", "and", (_h("E2F_TARGETS"), _h("TNFA_SIGNALING_VIA_NFKB")), H, 1.0, seed=251, drive="pc1"),
        RecoveryTrait("androgen_tgfb_linear2_pc1", "linear", (_h("ANDROGEN_RESPONSE"), _h("TGF_BETA_SIGNALING")), H, 0.5, seed=252, drive="pc1"),
        RecoveryTrait("complement_extremes_noisy_pc1", "extremes", (_h("COMPLEMENT"),), H, 1.0, seed=253, drive="pc1"),
        RecoveryTrait("endothelial_step_noisy_pc1", "step", ("DarmanisBarres_Endothelial",), C, 1.0, seed=254, drive="pc1"),
        RecoveryTrait("oligodendrocyte_linear_noisy_pc1", "linear", ("DarmanisBarres_Oligodendrocytes",), C, 1.0, seed=255, drive="pc1"),
        RecoveryTrait("endothelial_and_neurons_noisy_pc1", "and", ("Barres_endothelial", "DarmanisBarres_Neurons"), C, 1.0, seed=256, drive="pc1"),
        RecoveryTrait("mixopc_step_pc1", "step", ("DarmanisBarres_mixOPCOligNeurons",), C, 0.5, seed=257, drive="pc1"),
        RecoveryTrait("parkinsons_step_pc1", "step", ("KEGG_PARKINSONS_DISEASE",), K, 0.7, seed=258, drive="pc1"),
        RecoveryTrait("adipocytokine_linear_noisy_pc1", "linear", ("KEGG_ADIPOCYTOKINE_SIGNALING_PATHWAY",), K, 1.0, seed=259, drive="pc1"),
        RecoveryTrait("pylori_and_tryptophan_pc1", "and", ("KEGG_EPITHELIAL_CELL_SIGNALING_IN_HELICOBACTER_PYLORI_INFECTION", "KEGG_TRYPTOPHAN_METABOLISM"), K, 0.7, seed=260, drive="pc1"),
        RecoveryTrait("cysteine_glycerolipid_linear2_noisy_pc1", "linear", ("KEGG_CYSTEINE_AND_METHIONINE_METABOLISM", "KEGG_GLYCEROLIPID_METABOLISM"), K, 1.0, seed=261, drive="pc1"),
        RecoveryTrait("prostate_and_thyroid_pc1", "and", ("KEGG_PROSTATE_CANCER", "KEGG_THYROID_CANCER"), K, 0.5, seed=262, drive="pc1"),
    ]  # fmt: skip


def holdout16_traits() -> list[RecoveryTrait]:
    """A seventeenth list (14), planted through a sub-module: each programme drives its trait
    through the mean z-score of a random quarter of its expressed genes (at least 8;
    ``drive="core"``), the rest of the set riding along by co-expression alone (the core's
    score correlates 0.91-0.98 with the programme score on the sets looked at while writing
    this). Written with its check, with the sixteenth, before any read-out was scored on
    either: the default consensus, unchanged, with its programme network from three seeds,
    against the targets; nothing is changed whatever it shows. Drawn as the thirteenth list
    was, from one ``numpy.random.default_rng(263)`` permutation of each collection (not
    excluding the sixteenth's draws); seeds 263-276."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("androgen_step_core", "step", (_h("ANDROGEN_RESPONSE"),), H, 0.3, seed=263, drive="core"),
        RecoveryTrait("pi3k_linear_core", "linear", (_h("PI3K_AKT_MTOR_SIGNALING"),), H, 0.7, seed=264, drive="core"),
        RecoveryTrait("upr_and_secretion_core", "and", (_h("UNFOLDED_PROTEIN_RESPONSE"), _h("PROTEIN_SECRETION")), H, 0.7, seed=265, drive="core"),
        RecoveryTrait("e2f_il2_linear2_noisy_core", "linear", (_h("E2F_TARGETS"), _h("IL2_STAT5_SIGNALING")), H, 1.0, seed=266, drive="core"),
        RecoveryTrait("adipogenesis_extremes_core", "extremes", (_h("ADIPOGENESIS"),), H, 0.5, seed=267, drive="core"),
        RecoveryTrait("endothelial_step_noisy_core", "step", ("DarmanisBarres_Endothelial",), C, 1.0, seed=268, drive="core"),
        RecoveryTrait("oligodendrocyte_linear_noisy_core", "linear", ("DarmanisBarres_Oligodendrocytes",), C, 1.0, seed=269, drive="core"),
        RecoveryTrait("replicating_and_oligo_noisy_core", "and", ("DarmanisBarres_FetalNeuronsreplicating", "Barres_oligodendrocytes"), C, 1.0, seed=270, drive="core"),
        RecoveryTrait("mixopc_step_core", "step", ("DarmanisBarres_mixOPCOligNeurons",), C, 0.3, seed=271, drive="core"),
        RecoveryTrait("ecoli_step_core", "step", ("KEGG_PATHOGENIC_ESCHERICHIA_COLI_INFECTION",), K, 0.7, seed=272, drive="core"),
        RecoveryTrait("steroid_linear_core", "linear", ("KEGG_STEROID_HORMONE_BIOSYNTHESIS",), K, 0.5, seed=273, drive="core"),
        RecoveryTrait("prostate_and_olfactory_core", "and", ("KEGG_PROSTATE_CANCER", "KEGG_OLFACTORY_TRANSDUCTION"), K, 0.7, seed=274, drive="core"),
        RecoveryTrait("oocyte_hedgehog_linear2_noisy_core", "linear", ("KEGG_PROGESTERONE_MEDIATED_OOCYTE_MATURATION", "KEGG_HEDGEHOG_SIGNALING_PATHWAY"), K, 1.0, seed=275, drive="core"),
        RecoveryTrait("p450_and_glycerolipid_core", "and", ("KEGG_DRUG_METABOLISM_CYTOCHROME_P450", "KEGG_GLYCEROLIPID_METABOLISM"), K, 0.3, seed=276, drive="core"),
    ]  # fmt: skip


def holdout17_traits() -> list[RecoveryTrait]:
    """An eighteenth list (14), mixing the two other drives, to check blind what the sixteenth
    and seventeenth lists and the ``make bench`` list through those drives showed when split
    by the number of programmes (the default first in 0.68 of 37 learnt one-programme traits
    and in 0.12 of 17 learnt two-programme ones). Written with its check before any read-out
    was scored on these: the default consensus, unchanged, with its programme network from
    three seeds; predicted, on the learnt traits, a planted set first in at least half of the
    one-programme traits with a better mean rank than the peer's, and first in at most 0.3 of
    the two-programme traits; nothing is changed whatever it shows. Seven traits of one
    programme (step, linear) and seven of two (and, linear), ``core`` and ``pc1`` drives in
    turn; each collection's programmes in the order of one ``numpy.random.default_rng(277)``
    permutation of its sets with 15-500 expressed genes, sets never planted before first, a
    set or pair that would repeat an earlier trait (function, programmes and drive) left for
    the next; noise from (0.3, 0.5, 0.7, 1.0); seeds 277-290."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("uvup_step_core", "step", (_h("UV_RESPONSE_UP"),), H, 0.7, seed=277, drive="core"),
        RecoveryTrait("hedgehog_linear_pc1", "linear", (_h("HEDGEHOG_SIGNALING"),), H, 0.7, seed=278, drive="pc1"),
        RecoveryTrait("dnarepair_and_e2f_pc1", "and", (_h("DNA_REPAIR"), _h("E2F_TARGETS")), H, 0.7, seed=279, drive="pc1"),
        RecoveryTrait("inflammatory_allograft_linear2_core", "linear", (_h("INFLAMMATORY_RESPONSE"), _h("ALLOGRAFT_REJECTION")), H, 0.7, seed=280, drive="core"),
        RecoveryTrait("oligodendrocyte_step_pc1", "step", ("DarmanisBarres_Oligodendrocytes",), C, 0.7, seed=281, drive="pc1"),
        RecoveryTrait("endothelial_and_patelhypoxia_core", "and", ("DarmanisBarres_Endothelial", "Patel_hypoxia"), C, 0.5, seed=282, drive="core"),
        RecoveryTrait("anticellcycle_linear_core", "linear", ("Patel_anticellcycle",), C, 0.5, seed=283, drive="core"),
        RecoveryTrait("iga_step_pc1", "step", ("KEGG_INTESTINAL_IMMUNE_NETWORK_FOR_IGA_PRODUCTION",), K, 0.7, seed=284, drive="pc1"),
        RecoveryTrait("leishmania_linear_core", "linear", ("KEGG_LEISHMANIA_INFECTION",), K, 0.3, seed=285, drive="core"),
        RecoveryTrait("ganglio_and_nsclc_core", "and", ("KEGG_GLYCOSPHINGOLIPID_BIOSYNTHESIS_GANGLIO_SERIES", "KEGG_NON_SMALL_CELL_LUNG_CANCER"), K, 0.7, seed=286, drive="core"),
        RecoveryTrait("allograft_renal_linear2_pc1", "linear", ("KEGG_ALLOGRAFT_REJECTION", "KEGG_RENAL_CELL_CARCINOMA"), K, 0.3, seed=287, drive="pc1"),
        RecoveryTrait("porphyrin_step_core", "step", ("KEGG_PORPHYRIN_AND_CHLOROPHYLL_METABOLISM",), K, 0.5, seed=288, drive="core"),
        RecoveryTrait("vasopressin_and_gag_pc1", "and", ("KEGG_VASOPRESSIN_REGULATED_WATER_REABSORPTION", "KEGG_GLYCOSAMINOGLYCAN_DEGRADATION"), K, 0.3, seed=289, drive="pc1"),
        RecoveryTrait("kras_and_wnt_core", "and", (_h("KRAS_SIGNALING_UP"), _h("WNT_BETA_CATENIN_SIGNALING")), H, 0.3, seed=290, drive="core"),
    ]  # fmt: skip


def holdout18_traits() -> list[RecoveryTrait]:
    """A nineteenth list (14), mixing all three drives, written after the consensus's places
    below the forward order were made the median of four ranks (the two programme ranks, the
    masking z-score's and correlation GSEA's; chosen on fresh runs of the ``make bench``
    list, the eleventh to fifteenth lists and the sixteenth to eighteenth through each drive)
    and before any read-out was scored on these. Its check: predicted, over the learnt
    traits, a mean rank no worse than that of the order it replaced (the mean of the two
    programme ranks, recomputed from the same run's per-set table; first places are the
    forward order's in both). It was worse (5.00 against 3.50), and the median order was
    dropped (docs/results.md, "Below the forward order"). Drawn as the eighteenth list was,
    from ``numpy.random.default_rng(291)``; five traits through the programme score, five
    through a core, four through PC1; seeds 291-304."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("estrogen_early_step", "step", (_h("ESTROGEN_RESPONSE_EARLY"),), H, 0.7, seed=291),
        RecoveryTrait("beta_cells_linear_core", "linear", (_h("PANCREAS_BETA_CELLS"),), H, 0.5, seed=292, drive="core"),
        RecoveryTrait("uvdn_and_xenobiotic_pc1", "and", (_h("UV_RESPONSE_DN"), _h("XENOBIOTIC_METABOLISM")), H, 0.3, seed=293, drive="pc1"),
        RecoveryTrait("peroxisome_ifng_linear2", "linear", (_h("PEROXISOME"), _h("INTERFERON_GAMMA_RESPONSE")), H, 0.7, seed=294),
        RecoveryTrait("upr_extremes_core", "extremes", (_h("UNFOLDED_PROTEIN_RESPONSE"),), H, 0.5, seed=295, drive="core"),
        RecoveryTrait("opc_step_core", "step", ("DarmanisBarres_OPCs",), C, 0.3, seed=296, drive="core"),
        RecoveryTrait("barres_oligo_and_darmanis_microglia_noisy", "and", ("Barres_oligodendrocytes", "DarmanisBarres_microglia"), C, 1.0, seed=297),
        RecoveryTrait("barres_endothelial_linear_pc1", "linear", ("Barres_endothelial",), C, 0.5, seed=298, drive="pc1"),
        RecoveryTrait("lupus_step_noisy", "step", ("KEGG_SYSTEMIC_LUPUS_ERYTHEMATOSUS",), K, 1.0, seed=299),
        RecoveryTrait("bicarbonate_linear_pc1", "linear", ("KEGG_PROXIMAL_TUBULE_BICARBONATE_RECLAMATION",), K, 0.7, seed=300, drive="pc1"),
        RecoveryTrait("melanoma_and_als_core", "and", ("KEGG_MELANOMA", "KEGG_AMYOTROPHIC_LATERAL_SCLEROSIS_ALS"), K, 0.7, seed=301, drive="core"),
        RecoveryTrait("bcc_sclc_linear2_core", "linear", ("KEGG_BASAL_CELL_CARCINOMA", "KEGG_SMALL_CELL_LUNG_CANCER"), K, 0.5, seed=302, drive="core"),
        RecoveryTrait("retinol_and_huntingtons", "and", ("KEGG_RETINOL_METABOLISM", "KEGG_HUNTINGTONS_DISEASE"), K, 0.7, seed=303),
        RecoveryTrait("immunodeficiency_step_pc1", "step", ("KEGG_PRIMARY_IMMUNODEFICIENCY",), K, 0.3, seed=304, drive="pc1"),
    ]  # fmt: skip


def holdout19_traits() -> list[RecoveryTrait]:
    """A twentieth list (14), mixing all three drives, written to check one order below the
    forward order before any read-out was scored on these: ``minfam``, each set below the
    forward order placed by the better of the mean of its two programme ranks and the mean of
    its masking z-score's and correlation GSEA's ranks (ties in the default's order). It was
    the best of the six orders tried on the runs they were chosen on and slightly worse than
    the default on the nineteenth list (3.67 against 3.50; docs/results.md, "Below the forward
    order"). Its check: over the learnt traits of the nineteenth and twentieth lists pooled,
    the two run blind since ``minfam`` was defined, its mean rank, recomputed from each run's
    per-set table, is no worse than the default's; then it becomes the default, and not
    otherwise. Drawn as the nineteenth list was, from ``numpy.random.default_rng(305)``, with
    its layout of functions and the drives moved one place (mean to core, core to PC1, PC1 to
    mean); seeds 305-318."""
    H, C, K = "hallmark", "celltype", "kegg"
    return [
        RecoveryTrait("myc1_step_core", "step", (_h("MYC_TARGETS_V1"),), H, 0.7, seed=305, drive="core"),
        RecoveryTrait("androgen_linear_noisy_pc1", "linear", (_h("ANDROGEN_RESPONSE"),), H, 1.0, seed=306, drive="pc1"),
        RecoveryTrait("apical_and_spermatogenesis", "and", (_h("APICAL_JUNCTION"), _h("SPERMATOGENESIS")), H, 0.5, seed=307),
        RecoveryTrait("il6_ros_linear2_noisy_core", "linear", (_h("IL6_JAK_STAT3_SIGNALING"), _h("REACTIVE_OXIGEN_SPECIES_PATHWAY")), H, 1.0, seed=308, drive="core"),
        RecoveryTrait("cholesterol_extremes_pc1", "extremes", (_h("CHOLESTEROL_HOMEOSTASIS"),), H, 0.7, seed=309, drive="pc1"),
        RecoveryTrait("barres_oligo_step_pc1", "step", ("Barres_oligodendrocytes",), C, 0.7, seed=310, drive="pc1"),
        RecoveryTrait("darmanis_oligo_and_patelhypoxia_core", "and", ("DarmanisBarres_Oligodendrocytes", "Patel_hypoxia"), C, 0.7, seed=311, drive="core"),
        RecoveryTrait("anticellcycle_linear_noisy", "linear", ("Patel_anticellcycle",), C, 1.0, seed=312),
        RecoveryTrait("xenobiotic_p450_step_core", "step", ("KEGG_METABOLISM_OF_XENOBIOTICS_BY_CYTOCHROME_P450",), K, 0.7, seed=313, drive="core"),
        RecoveryTrait("cholerae_linear", "linear", ("KEGG_VIBRIO_CHOLERAE_INFECTION",), K, 0.7, seed=314),
        RecoveryTrait("basal_tf_and_smooth_muscle_noisy_pc1", "and", ("KEGG_BASAL_TRANSCRIPTION_FACTORS", "KEGG_VASCULAR_SMOOTH_MUSCLE_CONTRACTION"), K, 1.0, seed=315, drive="pc1"),
        RecoveryTrait("cardiac_gpi_linear2_pc1", "linear", ("KEGG_CARDIAC_MUSCLE_CONTRACTION", "KEGG_GLYCOSYLPHOSPHATIDYLINOSITOL_GPI_ANCHOR_BIOSYNTHESIS"), K, 0.5, seed=316, drive="pc1"),
        RecoveryTrait("bladder_and_lacto_core", "and", ("KEGG_BLADDER_CANCER", "KEGG_GLYCOSPHINGOLIPID_BIOSYNTHESIS_LACTO_AND_NEOLACTO_SERIES"), K, 0.3, seed=317, drive="core"),
        RecoveryTrait("diabetes1_step_noisy", "step", ("KEGG_TYPE_I_DIABETES_MELLITUS",), K, 1.0, seed=318),
    ]  # fmt: skip


#: The trait lists the benchmark script can run (``--traits``).
TRAIT_LISTS = {
    "benchmark": benchmark_traits,
    "holdout": holdout_traits,
    "holdout2": holdout2_traits,
    "holdout3": holdout3_traits,
    "holdout4": holdout4_traits,
    "holdout5": holdout5_traits,
    "holdout6": holdout6_traits,
    "holdout7": holdout7_traits,
    "holdout8": holdout8_traits,
    "holdout9": holdout9_traits,
    "holdout10": holdout10_traits,
    "holdout11": holdout11_traits,
    "holdout12": holdout12_traits,
    "holdout13": holdout13_traits,
    "holdout14": holdout14_traits,
    "holdout15": holdout15_traits,
    "holdout16": holdout16_traits,
    "holdout17": holdout17_traits,
    "holdout18": holdout18_traits,
    "holdout19": holdout19_traits,
}
