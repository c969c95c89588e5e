"""Sequence alphabets, normalisation, reverse complement and k-mer encoding."""
