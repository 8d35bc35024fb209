"""A zoo of small models written the way popular third-party code writes them, for
``tensorgrad``: a Llama-style decoder (RMSNorm, rotary embeddings, grouped-query attention,
SwiGLU, a KV cache), a GPT-2 block as HuggingFace writes it (Conv1D, ``past_key_values``,
an additive attention mask of ``finfo.min``), a ViT, a ResNet-18-like CNN, a small U-Net
denoiser with its diffusion schedule, a convolutional VAE and an LSTM sequence-to-sequence
model with attention. Each comes with its training steps and its generation or inference.

Only the three import lines below name tensorgrad: ``tests/engine/test_model_zoo_torch.py``
runs this file as it is and again with them pointed back at ``torch``, ``torch.nn`` and
``torch.nn.functional``, and holds the two runs to the same numbers.
"""

import copy
import math
from dataclasses import dataclass

import tensorgrad as torch
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F


def gradients(model):
    """Every parameter's gradient, by name (None where it has none)."""
    return {name: None if p.grad is None else p.grad.detach().clone()
            for name, p in model.named_parameters()}


# ---- 1. a Llama-style decoder ---------------------------------------------------------------


@dataclass
class LlamaConfig:
    vocab_size: int = 23
    dim: int = 16
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    hidden_dim: int = 24
    max_seq_len: int = 24
    norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    kv_repeat: str = "expand"  # or "interleave": two ways to share keys among query heads


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        in_dtype = x.dtype
        if in_dtype in (torch.float16, torch.bfloat16):
            x = x.float()  # the statistics in float32 at least
        variance = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(variance + self.eps)
        return self.weight * x.to(in_dtype)


class Rotary(nn.Module):
    def __init__(self, head_dim, max_seq_len, theta):
        super().__init__()
        # in the default dtype, not float32: float32 cosines differ by an ulp between engines
        exponents = torch.arange(0, head_dim, 2, dtype=torch.int64).to(torch.get_default_dtype())
        inv_freq = 1.0 / (theta ** (exponents / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        positions = torch.arange(max_seq_len, dtype=inv_freq.dtype)
        freqs = torch.einsum("i,j->ij", positions, inv_freq)
        angles = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", angles.cos(), persistent=False)
        self.register_buffer("sin_cached", angles.sin(), persistent=False)

    def forward(self, x, start_pos, length):
        cos = self.cos_cached[start_pos:start_pos + length].to(dtype=x.dtype)
        sin = self.sin_cached[start_pos:start_pos + length].to(dtype=x.dtype)
        return cos, sin


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(q, k, cos, sin):
    cos, sin = cos.unsqueeze(0).unsqueeze(0), sin[None, None, :, :]
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def repeat_kv(x, n_rep, how):
    if n_rep == 1:
        return x
    if how == "interleave":
        return torch.repeat_interleave(x, repeats=n_rep, dim=1)
    b, n_kv, s, d = x.shape
    return x[:, :, None, :, :].expand(b, n_kv, n_rep, s, d).reshape(b, n_kv * n_rep, s, d)


class LlamaAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads, self.n_kv_heads = cfg.n_heads, cfg.n_kv_heads
        self.head_dim = cfg.dim // cfg.n_heads
        self.n_rep = self.n_heads // self.n_kv_heads
        self.kv_repeat = cfg.kv_repeat
        self.q_proj = nn.Linear(cfg.dim, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin, mask, cache=None):
        bsz, seqlen, _ = x.shape
        q = self.q_proj(x).view(bsz, seqlen, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(bsz, seqlen, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary(q, k, cos, sin)
        if cache is not None:  # the keys and values of the positions seen before
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        new_cache = (k, v)
        k, v = repeat_kv(k, self.n_rep, self.kv_repeat), repeat_kv(v, self.n_rep, self.kv_repeat)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim)
        if mask is not None:
            scores = scores + mask
        at_least_float32 = torch.promote_types(scores.dtype, torch.float32)
        probs = F.softmax(scores, dim=-1, dtype=at_least_float32).type_as(q)
        out = torch.matmul(probs, v)
        out = out.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.o_proj(out), new_cache


class SwiGLU(nn.Module):
    def __init__(self, dim, hidden_dim):
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden_dim, bias=False)
        self.up_proj = nn.Linear(dim, hidden_dim, bias=False)
        self.down_proj = nn.Linear(hidden_dim, dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.self_attn = LlamaAttention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.mlp = SwiGLU(cfg.dim, cfg.hidden_dim)

    def forward(self, x, cos, sin, mask, cache=None):
        h, new_cache = self.self_attn(self.input_layernorm(x), cos, sin, mask, cache)
        x = x + h
        return x + self.mlp(self.post_attention_layernorm(x)), new_cache


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(LlamaLayer(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.rotary = Rotary(cfg.dim // cfg.n_heads, cfg.max_seq_len, cfg.rope_theta)
        self.lm_head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.embed_tokens.weight
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, tokens, caches=None, start_pos=0, labels=None):
        bsz, seqlen = tokens.shape
        if not torch.compiler.is_compiling():  # (a check a compiler would trace around)
            assert start_pos + seqlen <= self.cfg.max_seq_len, "past the rotary cache"
        h = self.embed_tokens(tokens)
        cos, sin = self.rotary(h, start_pos, seqlen)
        mask = None
        if seqlen > 1:  # causal among the new positions, all the cached ones visible
            mask = torch.full((seqlen, seqlen), float("-inf"), device=tokens.device)
            mask = torch.triu(mask, diagonal=1)
            mask = torch.hstack([torch.zeros((seqlen, start_pos), device=tokens.device),
                                 mask]).type_as(h)
        new_caches = []
        for i, layer in enumerate(self.layers):
            h, cache = layer(h, cos, sin, mask, None if caches is None else caches[i])
            new_caches.append(cache)
        logits = self.lm_head(self.norm(h))
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
        loss = None
        if labels is not None:  # the next token's: logits shifted left, labels right
            shift_logits = logits[..., :-1, :].contiguous()
            shift_labels = labels[..., 1:].contiguous()
            loss = F.cross_entropy(shift_logits.view(-1, self.cfg.vocab_size),
                                   shift_labels.view(-1), ignore_index=-100)
        return logits, new_caches, loss

    @torch.no_grad()
    def generate(self, tokens, max_new_tokens, temperature=1.0, top_k=None, greedy=False):
        logits, caches, _ = self(tokens)
        for _ in range(max_new_tokens):
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                values, indices = torch.topk(logits, top_k, dim=-1)
                logits = torch.full_like(logits, float("-inf")).scatter(-1, indices, values)
            probs = torch.softmax(logits, dim=-1)
            if greedy:
                next_token = torch.argmax(probs, dim=-1, keepdim=True)
            else:
                next_token = torch.multinomial(probs, num_samples=1)
            tokens = torch.cat([tokens, next_token], dim=-1)
            logits, caches, _ = self(next_token, caches, start_pos=tokens.shape[1] - 1)
        return tokens


def llama_steps(model, batches, lr=3e-3):
    """AdamW steps (the vectors undecayed), with a warm-up: (loss, gradients) each."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=lr, betas=(0.9, 0.95), eps=1e-8)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 2))
    results = []
    for tokens in batches:
        labels = tokens.clone()
        labels[:, :2] = -100  # a prompt: no loss on it
        _, _, loss = model(tokens, labels=labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        results.append((loss.detach(), gradients(model)))
        optimizer.step()
        scheduler.step()
    return results


# ---- 2. a GPT-2 block as HuggingFace writes it ----------------------------------------------


@dataclass
class GPT2Config:
    vocab_size: int = 29
    n_positions: int = 16
    n_embd: int = 16
    n_layer: int = 2
    n_head: int = 2
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02
    dropout: float = 0.0


def gelu_new(x):
    inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))
    return 0.5 * x * (1.0 + torch.tanh(inner))


class Conv1D(nn.Module):
    """A linear layer whose weight is stored (in, out): the transpose of nn.Linear's."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        n = config.n_positions
        causal = torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n)
        self.register_buffer("bias", causal, persistent=False)
        self.embed_dim = config.n_embd
        self.num_heads = config.n_head
        self.head_dim = self.embed_dim // self.num_heads
        self.split_size = self.embed_dim
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)

    def _split_heads(self, tensor):
        new_shape = tensor.size()[:-1] + (self.num_heads, self.head_dim)
        return tensor.view(new_shape).permute(0, 2, 1, 3)  # (batch, head, seq, features)

    def _merge_heads(self, tensor):
        tensor = tensor.permute(0, 2, 1, 3).contiguous()
        return tensor.view(tensor.size()[:-2] + (self.num_heads * self.head_dim,))

    def _attn(self, query, key, value, attention_mask=None):
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        dtype, device = attn_weights.dtype, attn_weights.device
        attn_weights = attn_weights / torch.full([], value.size(-1) ** 0.5, dtype=dtype,
                                                 device=device)
        query_length, key_length = query.size(-2), key.size(-2)
        causal_mask = self.bias[:, :, key_length - query_length: key_length, :key_length]
        mask_value = torch.finfo(attn_weights.dtype).min
        mask_value = torch.full([], mask_value, dtype=dtype, device=device)
        attn_weights = torch.where(causal_mask, attn_weights.to(attn_weights.dtype), mask_value)
        if attention_mask is not None:
            attn_weights = attn_weights + attention_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1)
        attn_weights = attn_weights.type(value.dtype)
        attn_weights = self.attn_dropout(attn_weights)
        return torch.matmul(attn_weights, value), attn_weights

    def forward(self, hidden_states, layer_past=None, attention_mask=None, use_cache=False):
        query, key, value = self.c_attn(hidden_states).split(self.split_size, dim=2)
        query, key, value = (self._split_heads(t) for t in (query, key, value))
        if layer_past is not None:
            past_key, past_value = layer_past
            key = torch.cat((past_key, key), dim=-2)
            value = torch.cat((past_value, value), dim=-2)
        present = (key, value) if use_cache is True else None
        attn_output, _ = self._attn(query, key, value, attention_mask)
        attn_output = self.resid_dropout(self.c_proj(self._merge_heads(attn_output)))
        return attn_output, present


class GPT2MLP(nn.Module):
    def __init__(self, intermediate_size, config):
        super().__init__()
        self.c_fc = Conv1D(intermediate_size, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, intermediate_size)
        self.act = gelu_new
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden_states):
        return self.dropout(self.c_proj(self.act(self.c_fc(hidden_states))))


class GPT2Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(4 * config.n_embd, config)

    def forward(self, hidden_states, layer_past=None, attention_mask=None, use_cache=False):
        residual = hidden_states
        attn_output, present = self.attn(self.ln_1(hidden_states), layer_past=layer_past,
                                         attention_mask=attention_mask, use_cache=use_cache)
        hidden_states = attn_output + residual
        residual = hidden_states
        hidden_states = residual + self.mlp(self.ln_2(hidden_states))
        return hidden_states, present


class GPT2LMHeadModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([GPT2Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    def post_init(self):
        self.apply(self._init_weights)
        self.lm_head.weight = self.wte.weight  # tied

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, Conv1D)):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)
        for name, p in module.named_parameters():
            if name == "c_proj.weight":  # scaled by the depth of the residual stream
                p.data.normal_(mean=0.0, std=(self.config.initializer_range
                                              / math.sqrt(2 * self.config.n_layer)))

    def forward(self, input_ids, past_key_values=None, attention_mask=None, position_ids=None,
                labels=None, use_cache=False):
        input_shape = input_ids.size()
        input_ids = input_ids.view(-1, input_shape[-1])
        batch_size = input_ids.shape[0]
        if past_key_values is None:
            past_length = 0
            past_key_values = tuple([None] * len(self.h))
        else:
            past_length = past_key_values[0][0].size(-2)
        if position_ids is None:
            position_ids = torch.arange(past_length, input_shape[-1] + past_length,
                                        dtype=torch.long, device=input_ids.device)
            position_ids = position_ids.unsqueeze(0)
        if attention_mask is not None:
            attention_mask = attention_mask.view(batch_size, -1)
            attention_mask = attention_mask[:, None, None, :]
            attention_mask = attention_mask.to(dtype=self.dtype)
            attention_mask = (1.0 - attention_mask) * torch.finfo(self.dtype).min
        hidden_states = self.drop(self.wte(input_ids) + self.wpe(position_ids))
        output_shape = (-1,) + input_shape[1:] + (hidden_states.size(-1),)
        presents = () if use_cache else None
        for block, layer_past in zip(self.h, past_key_values):
            hidden_states, present = block(hidden_states, layer_past=layer_past,
                                           attention_mask=attention_mask, use_cache=use_cache)
            if use_cache is True:
                presents = presents + (present,)
        hidden_states = self.ln_f(hidden_states).view(output_shape)
        lm_logits = self.lm_head(hidden_states)
        loss = None
        if labels is not None:
            shift_logits = lm_logits[..., :-1, :].contiguous()
            shift_labels = labels[..., 1:].contiguous()
            loss_fct = nn.CrossEntropyLoss()
            loss = loss_fct(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))
        return loss, lm_logits, presents

    @torch.no_grad()
    def greedy_generate(self, input_ids, attention_mask, max_new_tokens):
        """Left-padded prompts: positions counted from each row's first real token."""
        past = None
        for _ in range(max_new_tokens):
            position_ids = attention_mask.long().cumsum(-1) - 1
            position_ids.masked_fill_(attention_mask == 0, 1)
            step_ids = input_ids if past is None else input_ids[:, -1:]
            if past is not None:
                position_ids = position_ids[:, -1].unsqueeze(-1)
            _, logits, past = self(step_ids, past_key_values=past, attention_mask=attention_mask,
                                   position_ids=position_ids, use_cache=True)
            next_tokens = torch.argmax(logits[:, -1, :], dim=-1)
            input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=-1)
            attention_mask = torch.cat(
                [attention_mask, attention_mask.new_ones((attention_mask.shape[0], 1))], dim=-1)
        return input_ids


def gpt2_steps(model, input_ids, attention_mask, steps, lr=1e-2):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    labels = input_ids.masked_fill(attention_mask == 0, -100)
    results = []
    for _ in range(steps):
        loss, _, _ = model(input_ids, attention_mask=attention_mask, labels=labels)
        loss.backward()
        results.append((loss.detach(), gradients(model)))
        optimizer.step()
        optimizer.zero_grad()
    return results


# ---- 3. a ViT -------------------------------------------------------------------------------


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, patches, dim)


class ViTBlock(nn.Module):
    """A pre-norm block written by hand, its heads split timm's way."""

    def __init__(self, dim, num_heads, mlp_ratio=2.0):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(),
                                 nn.Linear(int(dim * mlp_ratio), dim))

    def attention(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, img_size=8, patch_size=4, in_chans=3, num_classes=5, embed_dim=16,
                 depth=2, num_heads=2, hand_written=False, pool="cls"):
        super().__init__()
        self.pool = pool
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        num_patches = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        if hand_written:
            self.blocks = nn.Sequential(*[ViTBlock(embed_dim, num_heads) for _ in range(depth)])
        else:
            layer = nn.TransformerEncoderLayer(embed_dim, num_heads, dim_feedforward=2 * embed_dim,
                                               dropout=0.0, activation="gelu", batch_first=True,
                                               norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def no_weight_decay(self):
        return {"pos_embed", "cls_token"}

    def forward_features(self, x):
        x = self.patch_embed(x)
        cls_token = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls_token, x), dim=1)
        x = x + self.pos_embed
        return self.norm(self.blocks(x))

    def forward(self, x):
        x = self.forward_features(x)
        x = x[:, 0] if self.pool == "cls" else x[:, 1:].mean(dim=1)
        return self.head(x)


def resize_pos_embed(model, img_size, patch_size):
    """Fine-tuning at another resolution: the patch positions' embeddings resampled
    (bicubic) to the new grid, the class token's kept, and the patch embedding told."""
    prefix, grid = model.pos_embed[:, :1], model.pos_embed[:, 1:]
    old = int(math.sqrt(grid.shape[1]))
    new = img_size // patch_size
    grid = grid.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=(new, new), mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new * new, -1)
    model.pos_embed = nn.Parameter(torch.cat([prefix, grid], dim=1))
    model.patch_embed.num_patches = new * new
    return model


def vit_steps(model, images, labels, steps, lr=1e-3):
    skip = model.no_weight_decay()
    decay = [p for n, p in model.named_parameters() if n not in skip and p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if n in skip or p.ndim <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    results = []
    model.train()
    for _ in range(steps):
        loss = criterion(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        results.append((loss.detach(), gradients(model)))
        optimizer.step()
    model.eval()
    with torch.no_grad():
        probs = model(images).softmax(-1)
    return results, probs


# ---- 4. a ResNet-18-like CNN ----------------------------------------------------------------


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    def __init__(self, layers=(2, 2, 2, 2), widths=(4, 8, 8, 16), num_classes=6,
                 zero_init_residual=False):
        super().__init__()
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(widths[0], layers[0])
        self.layer2 = self._make_layer(widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * BasicBlock.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:  # each block starts as the identity
            for m in self.modules():
                if isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * BasicBlock.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * BasicBlock.expansion, 1, stride=stride,
                          bias=False),
                nn.BatchNorm2d(planes * BasicBlock.expansion),
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * BasicBlock.expansion
        for _ in range(1, blocks):
            layers.append(BasicBlock(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def resnet_steps(model, images, labels, steps, lr=0.1, channels_last=False):
    if channels_last:  # the convolutions' favourite layout on GPUs: values unchanged
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4,
                                nesterov=True)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    results = []
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        results.append((loss.detach(), gradients(model)))
        optimizer.step()
        scheduler.step()
    model.eval()
    with torch.no_grad():
        outputs = model(images)
        _, predicted = outputs.max(1)
        correct = predicted.eq(labels).sum().item()
    return results, outputs, correct, scheduler.get_last_lr()


# ---- 5. a small U-Net denoiser and its diffusion schedule -----------------------------------


def timestep_embedding(timesteps, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float32)
                      / half).to(device=timesteps.device)
    args = timesteps[:, None].float() * freqs[None]
    embedding = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=-1)
    return embedding


class ResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, temb_ch, groups=2, dropout=0.0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.temb_proj = nn.Linear(temb_ch, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class AttnBlock(nn.Module):
    def __init__(self, ch, groups=2):
        super().__init__()
        self.norm = nn.GroupNorm(groups, ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        b, c, hgt, wid = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3 * c, hgt * wid).chunk(3, dim=1)
        w = torch.einsum("bci,bcj->bij", q, k) * (c ** -0.5)
        w = torch.softmax(w, dim=-1)
        h = torch.einsum("bij,bcj->bci", w, v).reshape(b, c, hgt, wid)
        return x + self.proj(h)


class UNet(nn.Module):
    def __init__(self, in_ch=1, ch=8, mults=(1, 2), groups=2):
        super().__init__()
        self.ch = ch
        temb_ch = 4 * ch
        self.time_mlp = nn.Sequential(nn.Linear(ch, temb_ch), nn.SiLU(),
                                      nn.Linear(temb_ch, temb_ch))
        self.conv_in = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.down = nn.ModuleList()
        chans, now = [ch], ch
        for i, mult in enumerate(mults):
            self.down.append(ResBlock(now, ch * mult, temb_ch, groups))
            now = ch * mult
            chans.append(now)
            if i != len(mults) - 1:
                self.down.append(nn.Conv2d(now, now, 3, stride=2, padding=1))
                chans.append(now)
        self.mid = nn.ModuleList([ResBlock(now, now, temb_ch, groups), AttnBlock(now, groups),
                                  ResBlock(now, now, temb_ch, groups)])
        self.up = nn.ModuleList()
        for i, mult in reversed(list(enumerate(mults))):
            for _ in range(2):
                self.up.append(ResBlock(now + chans.pop(), ch * mult, temb_ch, groups))
                now = ch * mult
            if i != 0:
                self.up.append(nn.Conv2d(now, now, 3, padding=1))  # after a 2x upsampling
        self.norm_out = nn.GroupNorm(groups, now)
        self.conv_out = nn.Conv2d(now, in_ch, 3, padding=1)

    def forward(self, x, t):
        temb = self.time_mlp(timestep_embedding(t, self.ch).to(x.dtype))
        hs = [self.conv_in(x)]
        for layer in self.down:
            hs.append(layer(hs[-1], temb) if isinstance(layer, ResBlock) else layer(hs[-1]))
        h = hs[-1]
        for layer in self.mid:
            h = layer(h, temb) if isinstance(layer, ResBlock) else layer(h)
        for layer in self.up:
            if isinstance(layer, ResBlock):
                h = layer(torch.cat([h, hs.pop()], dim=1), temb)
            else:
                h = layer(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def extract(a, t, x_shape):
    """The schedule's values at each sample's timestep, shaped to broadcast over the image."""
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


def cosine_beta_schedule(timesteps, s=0.008):
    steps = timesteps + 1
    x = torch.linspace(0, timesteps, steps, dtype=torch.float64)
    alphas_cumprod = torch.cos(((x / timesteps) + s) / (1 + s) * math.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0.0001, 0.9999)


class Diffusion:
    def __init__(self, timesteps=10, schedule="linear"):
        self.timesteps = timesteps
        if schedule == "linear":
            betas = torch.linspace(1e-4, 0.02, timesteps, dtype=torch.float64)
        else:
            betas = cosine_beta_schedule(timesteps)
        alphas = 1.0 - betas
        alphas_cumprod = torch.cumprod(alphas, dim=0)
        alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
        self.betas = betas
        self.sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
        self.sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - alphas_cumprod)
        self.posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)

    def q_sample(self, x_start, t, noise=None):
        if noise is None:
            noise = torch.randn_like(x_start)
        a = extract(self.sqrt_alphas_cumprod, t, x_start.shape).to(x_start.dtype)
        b = extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape).to(x_start.dtype)
        return a * x_start + b * noise

    def p_losses(self, model, x_start, t, noise, loss_type="l2"):
        predicted = model(self.q_sample(x_start, t, noise), t)
        if loss_type == "l1":
            return F.l1_loss(noise, predicted)
        if loss_type == "huber":
            return F.smooth_l1_loss(noise, predicted)
        return F.mse_loss(noise, predicted)

    @torch.no_grad()
    def p_sample_loop(self, model, noises):
        """Ancestral sampling from ``noises[0]``, one of ``noises`` added at each later step."""
        img = noises[0]
        b = img.shape[0]
        for i in reversed(range(0, self.timesteps)):
            t = torch.full((b,), i, device=img.device, dtype=torch.long)
            betas_t = extract(self.betas, t, img.shape).to(img.dtype)
            sqrt_1m_t = extract(self.sqrt_one_minus_alphas_cumprod, t, img.shape).to(img.dtype)
            recip_t = extract(self.sqrt_recip_alphas, t, img.shape).to(img.dtype)
            mean = recip_t * (img - betas_t * model(img, t) / sqrt_1m_t)
            if i == 0:
                img = mean
            else:
                var_t = extract(self.posterior_variance, t, img.shape).to(img.dtype)
                img = mean + torch.sqrt(var_t) * noises[self.timesteps - i]
        return img.clamp(-1.0, 1.0)


def diffusion_steps(model, diffusion, images, timesteps, noises, loss_type, lr=2e-3, ema_decay=0.9):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    results = []
    for t, noise in zip(timesteps, noises):
        optimizer.zero_grad()
        loss = diffusion.p_losses(model, images, t, noise, loss_type)
        loss.backward()
        results.append((loss.detach(), gradients(model)))
        optimizer.step()
        with torch.no_grad():  # an exponential moving average of the weights
            torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()),
                                 1.0 - ema_decay)
    return results, ema


# ---- 6. a convolutional VAE, and an LSTM sequence-to-sequence model with attention ----------


class ConvVAE(nn.Module):
    def __init__(self, in_ch=1, size=8, hidden=8, latent=3):
        super().__init__()
        self.hidden, self.side = hidden, size // 4
        self.encoder = nn.Sequential(
            nn.Conv2d(in_ch, hidden, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(hidden, hidden, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten())
        flat = hidden * self.side * self.side
        self.fc_mu = nn.Linear(flat, latent)
        self.fc_logvar = nn.Linear(flat, latent)
        self.fc_decode = nn.Linear(latent, flat)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(hidden, in_ch, 4, stride=2, padding=1), nn.Sigmoid())

    def encode(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(self, mu, logvar, eps=None):
        std = torch.exp(0.5 * logvar)
        if eps is None:
            eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h = self.fc_decode(z).view(-1, self.hidden, self.side, self.side)
        return self.decoder(h)

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar, eps)), mu, logvar


def vae_loss(recon_x, x, mu, logvar, beta=1.0):
    bce = F.binary_cross_entropy(recon_x, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + beta * kld) / x.size(0)


def conv_vae_steps(model, images, noises, lr=1e-2):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    results = []
    model.train()
    for eps in noises:
        optimizer.zero_grad()
        recon, mu, logvar = model(images, eps)
        loss = vae_loss(recon, images, mu, logvar, beta=0.5)
        loss.backward()
        results.append((loss.detach(), gradients(model)))
        optimizer.step()
    model.eval()
    with torch.no_grad():
        samples = model.decode(noises[0][:2])
    return results, samples


class Encoder(nn.Module):
    def __init__(self, vocab, emb_dim, hid_dim, dropout=0.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb_dim, padding_idx=0)
        self.rnn = nn.LSTM(emb_dim, hid_dim, batch_first=True, bidirectional=True)
        self.fc_h = nn.Linear(hid_dim * 2, hid_dim)
        self.fc_c = nn.Linear(hid_dim * 2, hid_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src, src_len):
        embedded = self.dropout(self.embedding(src))
        packed = nn.utils.rnn.pack_padded_sequence(embedded, src_len.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        packed_outputs, (hidden, cell) = self.rnn(packed)
        outputs, _ = nn.utils.rnn.pad_packed_sequence(packed_outputs, batch_first=True,
                                                      total_length=src.size(1))
        # the last forward state and the first backward one, joined
        hidden = torch.tanh(self.fc_h(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1)))
        cell = torch.tanh(self.fc_c(torch.cat((cell[-2], cell[-1]), dim=1)))
        return outputs, (hidden.unsqueeze(0), cell.unsqueeze(0))


class AttnDecoder(nn.Module):
    def __init__(self, vocab, emb_dim, hid_dim, dropout=0.0):
        super().__init__()
        self.output_dim = vocab
        self.embedding = nn.Embedding(vocab, emb_dim, padding_idx=0)
        self.enc_proj = nn.Linear(hid_dim * 2, hid_dim, bias=False)
        self.rnn = nn.LSTM(emb_dim + hid_dim * 2, hid_dim, batch_first=True)
        self.fc_out = nn.Linear(hid_dim * 3 + emb_dim, vocab)
        self.dropout = nn.Dropout(dropout)

    def forward(self, token, state, encoder_outputs, mask):
        embedded = self.dropout(self.embedding(token.unsqueeze(1)))  # (B, 1, E)
        query = state[0][-1].unsqueeze(2)  # (B, H, 1)
        scores = torch.bmm(self.enc_proj(encoder_outputs), query).squeeze(2)  # (B, S)
        scores = scores.masked_fill(mask == 0, -1e10)
        attn = F.softmax(scores, dim=1)
        context = torch.bmm(attn.unsqueeze(1), encoder_outputs)  # (B, 1, 2H)
        output, state = self.rnn(torch.cat((embedded, context), dim=2), state)
        prediction = self.fc_out(torch.cat((output, context, embedded), dim=2).squeeze(1))
        return prediction, state, attn


class Seq2Seq(nn.Module):
    def __init__(self, src_vocab=13, trg_vocab=11, emb_dim=6, hid_dim=8):
        super().__init__()
        self.encoder = Encoder(src_vocab, emb_dim, hid_dim)
        self.decoder = AttnDecoder(trg_vocab, emb_dim, hid_dim)
        for name, param in self.named_parameters():
            if "weight" in name:
                nn.init.normal_(param.data, mean=0, std=0.1)
            else:
                nn.init.constant_(param.data, 0)

    def forward(self, src, src_len, trg, teacher_forcing):
        batch_size, trg_len = trg.shape
        outputs = torch.zeros(batch_size, trg_len, self.decoder.output_dim,
                              dtype=self.decoder.fc_out.weight.dtype)
        encoder_outputs, state = self.encoder(src, src_len)
        mask = src != 0
        token = trg[:, 0]
        for t in range(1, trg_len):
            output, state, _ = self.decoder(token, state, encoder_outputs, mask)
            outputs[:, t] = output
            top1 = output.argmax(1)
            token = trg[:, t] if teacher_forcing[t] else top1
        return outputs

    @torch.no_grad()
    def translate(self, src, src_len, bos, max_len):
        encoder_outputs, state = self.encoder(src, src_len)
        mask = src != 0
        token = torch.full((src.size(0),), bos, dtype=torch.long)
        tokens, attentions = [], []
        for _ in range(max_len):
            output, state, attn = self.decoder(token, state, encoder_outputs, mask)
            token = output.argmax(1)
            tokens.append(token)
            attentions.append(attn)
        return torch.stack(tokens, dim=1), torch.stack(attentions, dim=1)


def seq2seq_steps(model, src, src_len, trg, forcing, lr=0.5, clip=1.0):
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss(ignore_index=0)
    results = []
    model.train()
    for teacher_forcing in forcing:
        optimizer.zero_grad()
        output = model(src, src_len, trg, teacher_forcing)
        output_dim = output.shape[-1]
        loss = criterion(output[:, 1:].reshape(-1, output_dim), trg[:, 1:].reshape(-1))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        results.append((loss.detach(), norm, gradients(model)))
        optimizer.step()
    return results
