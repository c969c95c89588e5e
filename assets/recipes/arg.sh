#!/usr/bin/env bash
# Antibiotic-resistance drug class of genes and reads, NucArg-style: a long-gene model on
# 1024/512 windows (BLAST similarity) and a short-read model on 100-nt pieces, trained on one
# homology split; predict routes each input to one of them by length. The CLI form of
# assets/recipes/arg.yml (docs/usage.md, "Recipes").
#
#   bash assets/recipes/arg.sh                  # data from ../shared/data, outputs in recipe_arg/
#   DATA=/data OUT=arg_run THREADS=8 QUERY=contigs.fa bash assets/recipes/arg.sh
#
# DATA/arg: argannot.fasta (ARG-ANNOT genes, the drug class in the header) and the genes of two
# genomes without an ARG hit, non_arg_orfs_{s_epidermidis,e_coli_K12}.fasta (the negatives).
# QUERY: what predict scores at the end (default: the S. epidermidis ST14 contigs).
set -euo pipefail
DATA=${DATA:-$(dirname "$0")/../../../shared/data}
OUT=${OUT:-recipe_arg}
THREADS=${THREADS:-2}
QUERY=${QUERY:-$DATA/genomes/s_epidermidis_ST14.fa.gz}
mkdir -p "$OUT"

# the drug-class code of each ARG-ANNOT header as written, (Bla)blaTEM-1 → Bla: the one gene of two
# classes, (AGly_Flqn), is a class of its own that the split drops, and the task stays multiclass
# (--label-from argannot reads it as AGly;Flq, which makes the whole task multi-label)
seqclass build --input "$DATA/arg/argannot.fasta" \
    non_resistant="$DATA/arg/non_arg_orfs_s_epidermidis.fasta" \
    non_resistant="$DATA/arg/non_arg_orfs_e_coli_K12.fasta" \
    --label-from 'header-regex:~~~\(([A-Za-z_]+)\)' --out "$OUT/dataset.parquet"
# homology split at 80% identity (the default); a class in fewer than 5 clusters cannot be
# trained and tested apart, so it is dropped (Oxzln: 18 genes in 2 clusters; AGly_Flqn, Sul, ...)
seqclass split --dataset "$OUT/dataset.parquet" --min-class-clusters 5 --threads "$THREADS" \
    --out "$OUT/split.parquet"
seqclass chunk --dataset "$OUT/split.parquet" --window 1024 --stride 512 --out "$OUT/long.parquet"
seqclass chunk --dataset "$OUT/split.parquet" --window 100 --out "$OUT/short.parquet"
# BLAST at the protein level: each window in six frames against the training windows translated
# in their coding frame; the regularised head (--c 0.1, similarity's default) keeps the best
# hit's class unless the scores say better
seqclass train --dataset "$OUT/long.parquet" --family similarity --search blastx \
    --threads "$THREADS" --out "$OUT/arg_long"
# reads come from either strand: a k-mer and its reverse complement count as one
seqclass train --dataset "$OUT/short.parquet" --family kmer-logreg --kmer-size 8 --canonical --out "$OUT/arg_short"
# genes scored whole (windows aggregated as predict does); the short model on single reads
seqclass evaluate --model "$OUT/arg_long" --dataset "$OUT/split.parquet" \
    --negative-class non_resistant --out "$OUT/eval_long"
seqclass evaluate --model "$OUT/arg_short" --dataset "$OUT/short.parquet" --level window \
    --negative-class non_resistant --out "$OUT/eval_short"
# inputs of at least 1024 nt go to arg_long, shorter ones and FASTQ reads to arg_short
seqclass predict --model "$OUT/arg_long" --short-model "$OUT/arg_short" --input "$QUERY" \
    --out "$OUT/predictions.tsv" --tracks "$OUT/tracks.tsv"
seqclass interpret --tracks "$OUT/tracks.tsv" --max-contigs 6 --out "$OUT/contig_tracks"
