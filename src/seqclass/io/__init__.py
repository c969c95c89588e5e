"""Reading and writing files: sequences (FASTA/FASTQ, gzip), tables (Parquet/CSV/TSV), atomic outputs."""
