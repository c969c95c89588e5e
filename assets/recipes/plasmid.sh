#!/usr/bin/env bash
# Plasmid replicon family (Inc, rep, Col, other) of 100-nt stretches: PlasmidFinder replicons split
# by homology so that no replicon has stretches on both sides, K random stretches of each,
# reverse-complemented at random in training, and a strand-independent CNN trained on rows drawn
# by inverse class frequency. The CLI form of assets/recipes/plasmid.yml (docs/usage.md, "Recipes").
#
#   bash assets/recipes/plasmid.sh              # data from ../shared/data, outputs in recipe_plasmid/
#   DATA=/data OUT=plasmid_run K=50 EPOCHS=30 QUERY=contigs.fa bash assets/recipes/plasmid.sh
#
# DATA/plasmid/plasmidfinder.fasta: replicon sequences, the replicon in the header. K: stretches
# per replicon; EPOCHS: training passes. QUERY: what predict scores at the end (default: every
# replicon, scored whole).
set -euo pipefail
DATA=${DATA:-$(dirname "$0")/../../../shared/data}
OUT=${OUT:-recipe_plasmid}
THREADS=${THREADS:-2}
K=${K:-20}
EPOCHS=${EPOCHS:-30}
QUERY=${QUERY:-$DATA/plasmid/plasmidfinder.fasta}
mkdir -p "$OUT"

seqclass build --input "$DATA/plasmid/plasmidfinder.fasta" --label-from plasmidfinder --out "$OUT/dataset.parquet"
# whole replicons are clustered (80% identity) and placed, so valid and test stretches come from
# replicons never trained on
seqclass split --dataset "$OUT/dataset.parquet" --min-class-clusters 3 --threads "$THREADS" \
    --out "$OUT/split.parquet"
seqclass chunk --dataset "$OUT/split.parquet" --window 100 --samples-per-seq "$K" --rc-prob 0.5 \
    --out "$OUT/stretches.parquet"
seqclass train --dataset "$OUT/stretches.parquet" --family cnn --rc-average --sampler weighted \
    --epochs "$EPOCHS" --out "$OUT/cnn"
# each held-out stretch on its own
seqclass evaluate --model "$OUT/cnn" --dataset "$OUT/stretches.parquet" --level window --out "$OUT/eval"
seqclass predict --model "$OUT/cnn" --input "$QUERY" --out "$OUT/predictions.tsv"
