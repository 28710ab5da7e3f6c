"""Stage ``report``: the demo's recovery table (synthetic cohorts) and the HTML report."""

from __future__ import annotations

from typing import Any


def run_report(ctx) -> dict[str, Any]:
    from radiogenomics.pipeline.recovery import recovery_table
    from radiogenomics.report import build_report

    if ctx.folder.truth() is not None:
        ctx.table(recovery_table(ctx.folder), "recovery")
    path = build_report(ctx.folder.root, own_dir=ctx.dir)
    return {"report": str(ctx.folder.stage_dir("report") / path.relative_to(ctx.dir))}
