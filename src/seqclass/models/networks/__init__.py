"""The networks of the deep families as plain `nn.Module` classes, one file per family.

These modules import PyTorch at the top; the family modules import them only when a network
is built, so that registering a family costs nothing without PyTorch.
"""
