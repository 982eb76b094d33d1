"""One full-width LLaMA-2-7B decoder layer with random weights, exported to ONNX for timing.

`npm run bench:full-width` runs this, then times the file with onnxruntime-node
(bench/fullWidthLayer.ts) and extrapolates to the whole Emotion-LLaMA forward by FLOP count.
The layer follows the published LLaMA-2-7B shapes (config.json of Llama-2-7b-chat-hf:
hidden_size 4096, num_attention_heads 32, intermediate_size 11008, rms_norm_eps 1e-5,
rope_theta 10000): RMSNorm, q/k/v/o projections without bias, rotate-half rotary
embeddings, causal softmax attention, SiLU-gated MLP. It also returns the answer row's
attention probabilities [heads, N], as a contract model must, so the timing includes them.
Random weights: the time of a dense layer does not depend on the values.

Usage: /usr/bin/python3 bench/full_width_layer.py OUT.onnx [--positions N] [--hidden D]
"""
import argparse
import math

import torch
from torch import nn


class RmsNorm(nn.Module):
    def __init__(self, width, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class DecoderLayer(nn.Module):
    def __init__(self, hidden, heads, intermediate, positions, eps=1e-5, theta=10000.0):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.input_layernorm = RmsNorm(hidden, eps)
        self.post_attention_layernorm = RmsNorm(hidden, eps)
        self.q_proj = nn.Linear(hidden, hidden, bias=False)
        self.k_proj = nn.Linear(hidden, hidden, bias=False)
        self.v_proj = nn.Linear(hidden, hidden, bias=False)
        self.o_proj = nn.Linear(hidden, hidden, bias=False)
        self.gate_proj = nn.Linear(hidden, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden, bias=False)
        inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        angles = torch.outer(torch.arange(positions).float(), inv_freq)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer('cos', angles.cos())
        self.register_buffer('sin', angles.sin())
        mask = torch.full((positions, positions), float('-inf')).triu(1)
        self.register_buffer('mask', mask)

    def forward(self, x):
        n = x.shape[1]
        h = self.input_layernorm(x)

        def split(t):
            return t.view(1, n, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.q_proj(h)), split(self.k_proj(h)), split(self.v_proj(h))
        q = q * self.cos + rotate_half(q) * self.sin
        k = k * self.cos + rotate_half(k) * self.sin
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + self.mask
        probs = scores.softmax(-1)
        attended = (probs @ v).transpose(1, 2).reshape(1, n, -1)
        x = x + self.o_proj(attended)
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, probs[0, :, -1, :]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out')
    parser.add_argument('--positions', type=int, default=330)
    parser.add_argument('--hidden', type=int, default=4096)
    parser.add_argument('--heads', type=int, default=32)
    parser.add_argument('--intermediate', type=int, default=11008)
    args = parser.parse_args()
    torch.manual_seed(0)
    layer = DecoderLayer(args.hidden, args.heads, args.intermediate, args.positions).eval()
    with torch.no_grad():
        for module in layer.modules():
            if isinstance(module, nn.Linear):
                module.weight.normal_(0.0, 0.02)
    x = torch.randn(1, args.positions, args.hidden)
    with torch.no_grad():
        torch.onnx.export(
            layer, (x,), args.out, input_names=['hidden'],
            output_names=['hidden_out', 'answer_attention'], opset_version=17,
        )
    params = sum(p.numel() for p in layer.parameters())
    print(f'{args.out}: {params} parameters, {args.positions} positions')


if __name__ == '__main__':
    main()
