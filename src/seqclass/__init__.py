"""seqclass: train, evaluate and apply classifiers of DNA and protein sequences."""

__version__ = "0.1.0"
