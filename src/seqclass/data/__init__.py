"""Datasets: labels, building the dataset table, homology clustering, splits and chunks."""
