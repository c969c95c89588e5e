#!/usr/bin/env bash
# Bacterial promoters, Genomic-ULMFiT style: a k-mer language model pretrained on a genome,
# fine-tuned as an AWD-LSTM classifier of 81-nt B. subtilis promoters vs non-promoters on a
# homology split; beside it the position-aware CNN, which measured best. The CLI form of
# assets/recipes/promoter.yml (docs/usage.md, "Recipes").
#
#   bash assets/recipes/promoter.sh             # data from ../shared/data, outputs in recipe_promoter/
#   DATA=/data OUT=prom_run LM_STEPS=20000 bash assets/recipes/promoter.sh
#
# DATA/promoters: Bacillus_prom.fa and Bacillus_non_prom.fa (CNNPromoterData); DATA/genomes: the
# unlabelled genome the language model learns from. LM_STEPS and EPOCHS size the training
# (a GPU takes the defaults in minutes; on a CPU, fewer). QUERY: the DNA scanned at the end.
set -euo pipefail
DATA=${DATA:-$(dirname "$0")/../../../shared/data}
OUT=${OUT:-recipe_promoter}
THREADS=${THREADS:-2}
LM_STEPS=${LM_STEPS:-5000}
EPOCHS=${EPOCHS:-50}
QUERY=${QUERY:-$(dirname "$0")/../demo/e_coli_K12_0-20kb.fa}
mkdir -p "$OUT"

# 26 promoter ids recur with different sequences (two windows of one region)
seqclass build --input promoter="$DATA/promoters/Bacillus_prom.fa" \
    non_promoter="$DATA/promoters/Bacillus_non_prom.fa" --rename-duplicate-ids --out "$OUT/dataset.parquet"
seqclass split --dataset "$OUT/dataset.parquet" --threads "$THREADS" --out "$OUT/split.parquet"
# every sequence is one 81-nt window already; the chunk table makes the models record the window,
# so that predict scans long DNA in 81-nt windows
seqclass chunk --dataset "$OUT/split.parquet" --window 81 --out "$OUT/chunks.parquet"
# 1. a language model of 5-mers taken every 2 bases (Genomic-ULMFiT's tokens) on a genome
seqclass pretrain --input "$DATA/genomes/s_epidermidis_ST14.fa.gz" --kmer-size 5 --kmer-stride 2 \
    --embed-dim 64 --hidden 256 --layers 2 --max-steps "$LM_STEPS" --out "$OUT/lm"
# 2. the classifier starts from its encoder (k, stride and sizes come from lm/): gradual
#    unfreezing and discriminative learning rates, early stopping on the validation MCC
seqclass train --dataset "$OUT/chunks.parquet" --family awd-lstm --pretrained "$OUT/lm" \
    --epochs "$EPOCHS" --patience 10 --out "$OUT/awd_lstm"
# the position-aware CNN: every position of the aligned 81-nt window keeps its own features
seqclass train --dataset "$OUT/chunks.parquet" --family cnn --pooling flatten --max-len 81 --pool-size 4 \
    --conv-layers 2 --channels 64 --kernel-size 9 --dropout 0.3 --epochs "$EPOCHS" --patience 10 \
    --out "$OUT/cnn"
seqclass evaluate --model "$OUT/awd_lstm" --dataset "$OUT/split.parquet" --out "$OUT/eval_awd_lstm"
seqclass evaluate --model "$OUT/cnn" --dataset "$OUT/split.parquet" --out "$OUT/eval_cnn"
# promoter probability in each 81-nt window along the query, and what the CNN reads in promoters
seqclass predict --model "$OUT/cnn" --input "$QUERY" --out "$OUT/predictions.tsv" --tracks "$OUT/tracks.tsv"
seqclass interpret --model "$OUT/cnn" --input "$DATA/promoters/Bacillus_prom.fa" --max-sequences 3 \
    --target promoter --tracks "$OUT/tracks.tsv" --out "$OUT/interpret"
