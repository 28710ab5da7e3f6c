"""The saliency stage's top_salient_genes table and saliency index name the class whose
saliency they hold: a binary task's positive class (its network's logit), each class of a
multi-class task."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd


def test_top_salient_genes_name_the_class_not_the_task(tmp_path, monkeypatch):
    import radiogenomics.interpret as interpret
    from radiogenomics.pipeline import interpret_stage as stage

    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(12)]
    patients = [f"P{j}" for j in range(10)]
    targets = pd.DataFrame(
        {
            "enhancing": rng.choice(["<1/3", ">=1/3"], 10),
            "subtype": rng.choice(["A", "B"], 10),
        },
        index=patients,
    )
    sd = SimpleNamespace(
        task_names=["enhancing", "subtype"],
        expression=pd.DataFrame(rng.normal(size=(10, 12)), index=patients, columns=genes),
        targets=targets,
        positive=lambda t: ">=1/3" if t == "enhancing" else None,
    )

    def saliency(model, X, **kw):
        frame = pd.DataFrame(rng.normal(size=(12, len(X))), index=genes, columns=X.index)
        classes = ["only"] if model == "enhancing" else ["A", "B"]
        frames = {c: frame * (k + 1) for k, c in enumerate(classes)}
        return SimpleNamespace(frames=frames, matrix=lambda: frame)

    monkeypatch.setattr(stage, "study_data", lambda ctx: sd)
    monkeypatch.setattr(stage, "load_models", lambda ctx, task: (task, None, None))
    monkeypatch.setattr(interpret, "gene_saliency", saliency)
    store: dict[str, pd.DataFrame] = {}
    figures = {}
    ctx = SimpleNamespace(
        cfg=SimpleNamespace(
            saliency=SimpleNamespace(method="absolute", target="logit"),
            masking=SimpleNamespace(top=3),
            device="cpu",
        ),
        dir=tmp_path,
        stage_dir=lambda name: tmp_path / name,
        unit_done=lambda key: False,
        mark_unit=lambda key: None,
        log=SimpleNamespace(info=lambda *a: None),
        matrix=lambda frame, name: store.__setitem__(name, frame),
        json=lambda obj, name: (tmp_path / f"{name}.json").write_text(json.dumps(obj)),
        read=lambda stage_name, name, index=None: store[name],
        table=lambda df, name: store.__setitem__(name, df),
        figure=lambda fig, name: figures.__setitem__(name, [a.get_title() for a in fig.axes]),
    )
    stage.run_saliency(ctx)
    top = store["top_salient_genes"]
    pairs = set(zip(top["task"], top["class"], strict=True))
    assert pairs == {("enhancing", ">=1/3"), ("subtype", "A"), ("subtype", "B")}
    assert figures["top_salient_genes"] == ["enhancing", "subtype: A", "subtype: B"]
    # the index gives the class as the other tables do: a binary task's positive class
    index = store["saliency_index"]
    assert list(zip(index["task"], index["class"], index["table"], strict=True)) == [
        ("enhancing", ">=1/3", "saliency_enhancing"),
        ("subtype", "A", "saliency_subtype__A"),
        ("subtype", "B", "saliency_subtype__B"),
    ]
    # the radiogenomic traits still label a binary task's one matrix by the task alone
    from radiogenomics.pipeline.enrichment_stage import saliency_models

    assert [label for _, label, _ in saliency_models(index)] == [
        "enhancing",
        "subtype:A",
        "subtype:B",
    ]


def test_trait_labels_of_an_index_written_with_the_task_as_class():
    """Run folders whose saliency index gave a binary task's class as the task keep their
    trait labels (and so their finished units)."""
    from radiogenomics.pipeline.enrichment_stage import saliency_models

    index = pd.DataFrame(
        {
            "task": ["enhancing", "subtype"],
            "class": ["enhancing", "A"],
            "table": ["saliency_enhancing", "saliency_subtype__A"],
        }
    )
    assert saliency_models(index) == [
        ("rg_saliency_enhancing", "enhancing", "saliency_enhancing"),
        ("rg_saliency_subtype__A", "subtype:A", "saliency_subtype__A"),
    ]
