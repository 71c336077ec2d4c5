"""all-MiniLM-L6-v2 run directly: its own tokenizer (the ``tokenizers`` library, from the model's
``tokenizer.json``) and its six BERT layers in a few lines of torch, read from ``model.safetensors``.

sentence-transformers runs the same network, but importing it (with transformers and scikit-learn
behind it) took about two seconds of every model start. This module computes what its pipeline
does for this model (Transformer -> mean Pooling -> Normalize, 256 tokens at most); a test holds it
to sentence-transformers' embeddings (cosine >= 0.999).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

MAX_TOKENS = 256  # sentence_bert_config.json's max_seq_length


class MiniLM:
    """A BERT encoder whose mean-pooled, L2-normalised output is the sentence embedding."""

    def __init__(self, folder: Path, device: str = "cpu") -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{folder}: not the BERT layout this encoder runs")
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")
        self.weights = load_file(str(folder / "model.safetensors"))
        self.device = torch.device("cpu")
        self.to(device)

    def to(self, device: str) -> "MiniLM":
        self.device = torch.device(device)
        self.weights = {k: v.to(self.device) for k, v in self.weights.items()}
        return self

    def _layer_norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        w = self.weights
        return F.layer_norm(x, x.shape[-1:], w[name + ".weight"], w[name + ".bias"], self.eps)

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self.weights[name + ".weight"], self.weights[name + ".bias"])

    @torch.inference_mode()
    def embed(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32 unit vectors."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long, device=self.device)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.bool, device=self.device)
        w = self.weights
        n, length = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = self._layer_norm(x, "embeddings.LayerNorm")
        attend = mask[:, None, None, :]  # padding takes no part in attention
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (self._linear(x, p + "attention.self." + part).view(n, length, self.heads, -1).transpose(1, 2)
                       for part in ("query", "key", "value"))
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2).reshape(n, length, -1)
            x = self._layer_norm(self._linear(context, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            hidden = F.gelu(self._linear(x, p + "intermediate.dense"))
            x = self._layer_norm(self._linear(hidden, p + "output.dense") + x, p + "output.LayerNorm")
        weights = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=1).float().cpu().numpy()
