"""The training engine of the iterative families: the loop, batching, schedules, checkpoints,
random-state bookkeeping, curves and distributed training. It knows networks, not families:
seqclass.models builds a network and hands it to the loop.
"""
