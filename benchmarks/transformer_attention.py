"""Why batched transformer scoring of full 1024-token windows was slower than one at a time.

    python benchmarks/transformer_attention.py        # ~1 min, one CPU thread

Times the `transformer` family's encoder shape (2 pre-norm layers, width 64, 4 heads) in eval
mode without gradients on 16 windows of 1024 tokens: as one batch with and without a
key-padding mask (all False: no padding), and one window at a time with and without it.
"""

import time

import torch
from torch import nn


def seconds(f, n: int = 2) -> float:
    f()  # warm-up
    start = time.time()
    for _ in range(n):
        f()
    return (time.time() - start) / n


def main() -> None:
    torch.set_num_threads(1)
    layer = nn.TransformerEncoderLayer(64, 4, 256, 0.1, activation="gelu", batch_first=True,
                                       norm_first=True)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x = torch.randn(16, 1024, 64)  # (B, L, D)
    no_padding = torch.zeros(16, 1024, dtype=torch.bool)  # (B, L)
    with torch.no_grad():
        runs = {
            "batch of 16, padding mask": lambda: encoder(x, src_key_padding_mask=no_padding),
            "batch of 16, no mask": lambda: encoder(x),
            "one at a time, padding mask": lambda: [
                encoder(x[i:i + 1], src_key_padding_mask=no_padding[i:i + 1]) for i in range(16)],
            "one at a time, no mask": lambda: [encoder(x[i:i + 1]) for i in range(16)],
        }
        times = {name: seconds(f) for name, f in runs.items()}
    base = times["batch of 16, padding mask"]
    for name, t in times.items():
        print(f"{name:30s} {t:6.2f} s   {base / t:4.1f}x vs batch with mask")


if __name__ == "__main__":
    main()
