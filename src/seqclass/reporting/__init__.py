"""MultiQC custom content from the files the steps write.

Each function turns one seqclass output into one MultiQC custom-content file
(`*_mqc.tsv`, `*_mqc.json` or `*_mqc.yml`) whose header names the section, its
description and the plot type, so a plain `multiqc .` renders a seqclass report; PNGs go
into a `*_mqc.html` section, embedded.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from seqclass.errors import InputError

SECTION_PREFIX = "seqclass"


def _tsv(path: Path, section: str, name: str, description: str, plot_type: str,
         header: list[str], rows: list[list[Any]], pconfig: dict | None = None,
         headers: dict | None = None) -> None:
    """A MultiQC custom-content TSV: its YAML config (pconfig, and a table's per-column
    `headers`) in the comment lines above the table."""
    lines = [f"# id: '{SECTION_PREFIX}_{section}'", f"# section_name: '{name}'",
             f"# description: '{description}'", f"# plot_type: '{plot_type}'"]
    for key, config in (("pconfig", pconfig), ("headers", headers)):
        if config:
            lines.append(f"# {key}:")
            lines += [f"#     {k}: {json.dumps(v)}" for k, v in config.items()]
    with open(path, "w", newline="") as fh:
        fh.write("\n".join(lines) + "\n")
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def dataset_section(summary: dict, out: Path) -> None:
    rows = [[label, count] for label, count in summary["classes"].items()]
    _tsv(out, "dataset", "Dataset: class counts",
         f"{summary['records_kept']} {summary['alphabet']} sequences kept of "
         f"{summary['records_read']} read; dropped: "
         + (", ".join(f"{k} {v}" for k, v in summary["dropped"].items()) or "none")
         + f"; length {summary['length']['min']}-{summary['length']['max']} "
           f"(median {summary['length']['median']:.0f})",
         "bargraph", ["class", "sequences"], rows, {"id": "seqclass_dataset_plot",
                                                    "title": "seqclass: sequences per class"})


def split_section(summary: dict, out: Path) -> None:
    classes = sorted({c for counts in summary["counts"].values() for c in counts})
    rows = [[split] + [summary["counts"][split].get(c, 0) for c in classes]
            for split in ("train", "valid", "test")]
    leak = summary["leakage"]
    test = leak["test"]
    share = test["share_above_threshold"]
    _tsv(out, "split", "Split and leakage",
         # capitalised: MultiQC puts the section name before a description that starts in lower case
         f"{summary['strategy'].capitalize()} split ({summary.get('clusterer') or 'no clustering'}, "
         f"identity {summary['identity']}); test sequences above the threshold to any training "
         f"sequence ({leak['search']}): " + ("n/a" if share is None else f"{100 * share:.1f}%"),
         "bargraph", ["split"] + classes, rows, {"id": "seqclass_split_plot",
                                                 "title": "seqclass: sequences per split",
                                                 "cpswitch_c_active": False})


def leakage_section(leakage_tsv: Path, out: Path, bins: int = 20) -> None:
    """Histogram of held-out sequences' highest identity to training."""
    counts: Counter[tuple[str, int]] = Counter()  # (split, bin) -> sequences
    with open(leakage_tsv) as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            ident = float(row["max_identity"])
            b = min(int(ident * bins), bins - 1)
            counts[(row["split"], b)] += 1
    data = {split: {f"{b / bins:.2f}": counts[(split, b)] for b in range(bins)}
            for split in ("valid", "test")}
    doc = {"id": f"{SECTION_PREFIX}_leakage", "section_name": "Leakage: identity to training",
           # identity alone: a short stretch shared with a training sequence reads 1.0
           "description": "Held-out sequences by the identity of their best local hit among the "
                          "training sequences (bin lower bounds), whatever the hit covers; a "
                          "sequence counts as leaked (Split and leakage, above) only when the "
                          "hit also covers enough of it (split.leakage.tsv: query_coverage).",
           "plot_type": "linegraph",
           "pconfig": {"id": "seqclass_leakage_plot", "title": "seqclass: identity to training",
                       "xlab": "highest identity to a training sequence", "ylab": "sequences"},
           "data": data}
    out.write_text(json.dumps(doc, indent=2) + "\n")


METRIC_KEYS = ("accuracy", "balanced_accuracy", "mcc", "f1_macro", "f1_micro", "f1_weighted",
               "precision_macro", "recall_macro", "specificity", "roc_auc", "pr_auc")


def metrics_section(metrics: list[tuple[str, dict]], out: Path) -> None:
    rows = [[name, m.get("n")] + [None if m.get(k) is None else round(m[k], 4) for k in METRIC_KEYS]
            for name, m in metrics]
    # three decimals (MultiQC's default of one shows an MCC of 0.64 as 0.6), on a common scale
    headers = {"n": {"format": "{:,.0f}", "scale": False},
               **{k: {"format": "{:,.3f}", "min": -1 if k == "mcc" else 0, "max": 1, "scale": "RdYlGn"}
                  for k in METRIC_KEYS}}
    _tsv(out, "metrics", "Evaluation metrics", "Scores of each evaluated model and split.",
         "table", ["evaluation", "n", *METRIC_KEYS], rows, {"id": "seqclass_metrics_table"}, headers)


def confusion_section(name: str, metrics: dict, out: Path) -> None:
    if "confusion_matrix" not in metrics:
        return
    cm = metrics["confusion_matrix"]
    doc = {"id": f"{SECTION_PREFIX}_confusion_{_slug(name)}",
           "section_name": f"Confusion matrix: {name}",
           "description": "Rows: true class; columns: predicted class.",
           "plot_type": "heatmap",
           # counts, in the classes' own order: no decimals, no clustering of rows or columns
           "pconfig": {"id": f"seqclass_confusion_{_slug(name)}_plot", "title": name,
                       "xlab": "predicted", "ylab": "true", "zlab": "sequences", "tt_decimals": 0,
                       "cluster_rows": False, "cluster_cols": False},
           "xcats": cm["labels"], "ycats": cm["labels"], "data": cm["matrix"]}
    out.write_text(json.dumps(doc, indent=2) + "\n")


def training_section(logs: list[tuple[str, Path]], out: Path) -> None:
    """Loss and metric curves from training logs (JSON lines with `step` and numbers): one
    section, with one dataset per model (a button each, named after the model), so that the
    long- and short-read models of one run both show (two sections with one id would not)."""
    datasets = [_training_series(log_path) for _, log_path in logs]
    doc = {"id": f"{SECTION_PREFIX}_training", "section_name": "Training curves",
           "description": "Values logged during training, by optimiser step; one button per model.",
           "plot_type": "linegraph",
           "pconfig": {"id": "seqclass_training_plot", "title": "seqclass: training", "xlab": "step",
                       "data_labels": [{"name": name, "ylab": "value"} for name, _ in logs]},
           "data": datasets}
    out.write_text(json.dumps(doc, indent=2) + "\n")


# bookkeeping in a training log, on scales of their own that would flatten the curves
NOT_CURVES = {"step", "epoch", "lr"}


def _training_series(log_path: Path) -> dict[str, dict[int, float]]:
    """Losses and validation metrics of a training log, each by step."""
    series: dict[str, dict[int, float]] = {}
    with open(log_path) as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            for key, value in rec.items():
                if key not in NOT_CURVES and isinstance(value, (int, float)):
                    series.setdefault(key, {})[int(rec["step"])] = value
    return series


def predictions_section(predictions_tsv: list[Path], out: Path) -> None:
    counts: dict[str, Counter[str]] = {}
    for path in predictions_tsv:
        with open(path) as fh:
            counts[_stem(path)] = Counter(row["label"] for row in csv.DictReader(fh, delimiter="\t"))
    labels = sorted({lab for c in counts.values() for lab in c})
    rows = [[name] + [c.get(lab, 0) for lab in labels] for name, c in counts.items()]
    _tsv(out, "predictions", "Predicted classes", "Sequences per predicted class in each input.",
         "bargraph", ["input", *labels], rows, {"id": "seqclass_predictions_plot",
                                                "title": "seqclass: predicted classes"})


def interpretation_section(directories: list[Path], out: Path, plots_out: Path) -> None:
    """Saliency along every sequence explained by `seqclass interpret`: a line graph with one
    line per sequence, the mean ISM delta at each position (saliency.tsv), written to `out`; and
    one HTML section, `plots_out`, showing every PNG of the directories (embedded, so the report
    stays one file): the saliency and ISM heatmap of each sequence, and the tracks."""
    series: dict[str, dict[int, float]] = {}
    figures: list[tuple[str, bytes]] = []
    for directory in directories:
        saliency = directory / "saliency.tsv"
        pngs = sorted(directory.glob("*.png"))
        if not saliency.is_file() and not pngs:
            raise InputError("not an interpretation directory (no saliency.tsv, no PNG)", directory)
        prefix = "" if len(directories) == 1 else f"{directory.name}: "
        if saliency.is_file():
            with open(saliency) as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    series.setdefault(prefix + row["id"], {})[int(row["position"])] = \
                        float(row["ism_mean"])
        # the tracks first: the overview before the single sequences
        for png in sorted(pngs, key=lambda p: p.name != "tracks.png"):
            figures.append((prefix + png.name.removesuffix(".png"), png.read_bytes()))
    if series:
        doc = {"id": f"{SECTION_PREFIX}_interpretation", "section_name": "Interpretation",
               "description": "In-silico mutagenesis along each explained sequence: the change of "
                              "the target class's score when a residue is substituted, averaged "
                              "over the substitutions (negative: the residue supports the class).",
               "plot_type": "linegraph",
               "pconfig": {"id": "seqclass_interpretation_plot",
                           "title": "seqclass: saliency along the sequence",
                           "xlab": "position", "ylab": "mean ISM delta"},
               "data": series}
        out.write_text(json.dumps(doc, indent=2) + "\n")
    if figures:
        header = {"id": f"{SECTION_PREFIX}_interpretation_plots",
                  "section_name": "Interpretation: plots",
                  "description": "Class probabilities along the longest contigs (tracks), and for "
                                 "each explained sequence its saliency (ISM and occlusion) over "
                                 "the ISM heatmap of positions by substituted residue."}
        body = "\n".join(
            f'<figure><figcaption>{html.escape(name)}</figcaption>'
            f'<img style="max-width:100%" alt="{html.escape(name)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}"></figure>'
            for name, data in figures)
        plots_out.write_text("<!--\n" + yaml.safe_dump(header, sort_keys=False) + "-->\n"
                             + body + "\n")


def versions_section(version_files: list[Path], out: Path) -> None:
    """Merge per-process versions.yml files into MultiQC's software_versions section."""
    merged: dict[str, dict[str, str]] = {}
    for path in version_files:
        doc = yaml.safe_load(path.read_text()) or {}
        for process, tools in doc.items():
            merged.setdefault(process.split(":")[-1], {}).update(
                {str(k): str(v) for k, v in (tools or {}).items()})
    out.write_text(yaml.safe_dump(dict(sorted(merged.items())), sort_keys=False))


def _stem(path: Path) -> str:
    return path.name.removesuffix(".tsv")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()
