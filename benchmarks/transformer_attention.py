"""Which of PyTorch's CPU attention paths the `transformer` family's encoder takes, and what each costs.

    python benchmarks/transformer_attention.py        # ~1 min, one CPU thread

The family's encoder shape (2 pre-norm layers, width 64, 4 heads, feed-forward 256) on a
batch of 16 windows of 1024 tokens, with no padding and with the last 124 tokens of each
padded (a key-padding mask):
  * training (forward, backward, AdamW) with attention dropout 0.1 and 0 (--dropout 0.1 in
    both): dropout on the attention weights keeps PyTorch off its fused attention kernel;
  * inference without gradients through PyTorch's encoder "fast path" (what a stock
    TransformerEncoderLayer takes in eval mode) and through the regular path (what the
    family takes: its GELU is a function of its own, which the fast path does not accept).
Peak memory is not printed: ru_maxrss only rises, so one process cannot attribute it; the
family figures in train.py give it per process.
"""

import functools
import time

import torch
import torch.nn.functional as F
from torch import nn

B, L, D, HEADS, FF = 16, 1024, 64, 4, 256


def gelu(x: torch.Tensor) -> torch.Tensor:
    return F.gelu(x)


def encoder(attention_dropout: float, activation) -> nn.TransformerEncoder:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(D, HEADS, FF, 0.1, activation=activation, batch_first=True,
                                       norm_first=True)
    layer.self_attn.dropout = attention_dropout
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


def train_step(net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, mask) -> None:
    net(x, src_key_padding_mask=mask).sum().backward()
    optimizer.step()
    optimizer.zero_grad()


def seconds(f, n: int = 2) -> float:
    f()  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - start) / n


def main() -> None:
    torch.set_num_threads(1)
    x = torch.randn(B, L, D)  # (B, L, D)
    masks = {"no padding": None, "padding mask": torch.zeros(B, L, dtype=torch.bool)}
    masks["padding mask"][:, L - 124:] = True  # (B, L), True = padding

    print(f"training step, batch {B} x {L} tokens:")
    for attention_dropout in (0.1, 0.0):
        net = encoder(attention_dropout, gelu).train()
        optimizer = torch.optim.AdamW(net.parameters())
        for name, mask in masks.items():
            step = functools.partial(train_step, net, optimizer, x, mask)
            print(f"  attention dropout {attention_dropout}, {name:12s} {seconds(step):6.2f} s")

    print(f"inference, batch {B} x {L} tokens:")
    paths = {"fast path (activation 'gelu')": encoder(0.0, "gelu").eval(),
             "regular path (own GELU)": encoder(0.0, gelu).eval()}
    with torch.inference_mode():
        outputs = {}
        for path, net in paths.items():
            for name, mask in masks.items():
                outputs[path, name] = net(x, src_key_padding_mask=mask)
                forward = functools.partial(net, x, src_key_padding_mask=mask)
                print(f"  {path:30s} {name:12s} {seconds(forward):6.2f} s")
        fast, regular = paths
        real = {"no padding": torch.ones(B, L, dtype=torch.bool), "padding mask": ~masks["padding mask"]}
        diff = max(float((outputs[fast, name] - outputs[regular, name])[real[name]].abs().max())
                   for name in masks)  # the outputs at padded positions are not used
        print(f"  largest difference between the paths: {diff:.1e}")


if __name__ == "__main__":
    main()
