#!/usr/bin/env bash
# Subcellular localisation of eukaryotic proteins (11 classes, MultiLoc): the protein alphabet end
# to end, a homology split, and a BiLSTM over residues with the training loop's defaults (AdamW
# with warm-up and cosine decay, gradient clipping, balanced class weights, early stopping on the
# validation MCC). The CLI form of assets/recipes/protein_localization.yml (docs/usage.md, "Recipes").
#
#   bash assets/recipes/protein_localization.sh     # data from ../shared/data, outputs in recipe_protein_localization/
#   DATA=/data OUT=loc_run EPOCHS=30 QUERY=proteome.faa bash assets/recipes/protein_localization.sh
#   MODEL=embedding-bag bash assets/recipes/protein_localization.sh    # 2 minutes on a CPU
#
# DATA/protein_localization: one FASTA per class, the file name is the class (ER.fasta → ER).
# MODEL: bilstm (about 1.5 min an epoch on 2 CPU cores; a GPU takes seconds), or embedding-bag
# (the mean embedding of the 3-mers: position-blind, fast, and much less accurate). QUERY: the proteins predict calls at
# the end (default: one class's file, to show the output).
set -euo pipefail
DATA=${DATA:-$(dirname "$0")/../../../shared/data}
OUT=${OUT:-recipe_protein_localization}
THREADS=${THREADS:-2}
MODEL=${MODEL:-bilstm}
EPOCHS=${EPOCHS:-30}
QUERY=${QUERY:-$DATA/protein_localization/peroxisomal.fasta}
mkdir -p "$OUT"

seqclass build --input "$DATA"/protein_localization/*.fasta --alphabet protein --out "$OUT/dataset.parquet"
# proteins of one family (≥ 80% identity, MMseqs2 on the protein sequences) stay on one side
seqclass split --dataset "$OUT/dataset.parquet" --threads "$THREADS" --out "$OUT/split.parquet"
seqclass train --dataset "$OUT/split.parquet" --family "$MODEL" --epochs "$EPOCHS" --out "$OUT/model"
seqclass evaluate --model "$OUT/model" --dataset "$OUT/split.parquet" --out "$OUT/eval"
seqclass predict --model "$OUT/model" --input "$QUERY" --out "$OUT/predictions.tsv"
