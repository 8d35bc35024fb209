"""Small models and a training loop written for PyTorch, the way tutorials and makemore-like
projects write them: a character MLP over a rolled context, a GRU cell unrolled by hand, a
bag-of-words causal average, a classifier fed by a ``DataLoader``, an autoencoder, a
classifier of padded sequences on ``nn.TransformerEncoder``, and a LeNet-style CNN.

Only the four import lines below name tensorgrad: ``tests/engine/test_zoo_torch.py`` runs
this file as it is and again with them pointed back at ``torch``, and holds the two to the
same numbers.
"""

import math

import tensorgrad as torch
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F
from tensorgrad.utils.data import DataLoader, TensorDataset


class ContextMLP(nn.Module):
    """The previous ``block_size`` characters, embedded and concatenated, through an MLP."""

    def __init__(self, vocab_size, block_size, n_embd=8, n_hidden=32):
        super().__init__()
        self.vocab_size, self.block_size = vocab_size, block_size
        self.wte = nn.Embedding(vocab_size + 1, n_embd)  # one more: the "before the start" id
        self.mlp = nn.Sequential(nn.Linear(block_size * n_embd, n_hidden), nn.Tanh(),
                                 nn.Linear(n_hidden, vocab_size))

    def forward(self, idx, targets=None):
        embs = []
        for _ in range(self.block_size):
            embs.append(self.wte(idx))  # (b, t, n_embd)
            idx = torch.roll(idx, 1, 1)
            idx[:, 0] = self.vocab_size  # the start of the sequence
        logits = self.mlp(torch.cat(embs, -1))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


class GRUCell(nn.Module):
    def __init__(self, n_in, n_hidden):
        super().__init__()
        self.xh_to_z = nn.Linear(n_in + n_hidden, n_hidden)
        self.xh_to_r = nn.Linear(n_in + n_hidden, n_hidden)
        self.xh_to_hbar = nn.Linear(n_in + n_hidden, n_hidden)

    def forward(self, xt, hprev):
        xh = torch.cat([xt, hprev], dim=1)
        r = torch.sigmoid(self.xh_to_r(xh))
        hbar = torch.tanh(self.xh_to_hbar(torch.cat([xt, r * hprev], dim=1)))
        z = torch.sigmoid(self.xh_to_z(xh))
        return (1 - z) * hprev + z * hbar


class GRU(nn.Module):
    def __init__(self, vocab_size, n_embd=8, n_hidden=16):
        super().__init__()
        self.start = nn.Parameter(torch.zeros(1, n_hidden))
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.cell = GRUCell(n_embd, n_hidden)
        self.lm_head = nn.Linear(n_hidden, vocab_size)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        emb = self.wte(idx)
        h = self.start.expand((b, -1))
        hiddens = []
        for i in range(t):
            h = self.cell(emb[:, i, :], h)
            hiddens.append(h)
        logits = self.lm_head(torch.stack(hiddens, 1))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


class CausalBoW(nn.Module):
    """Each position the average of the ones up to it: a masked softmax of zeros."""

    def __init__(self, block_size):
        super().__init__()
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                             .view(1, block_size, block_size))

    def forward(self, x):
        b, t, c = x.size()
        att = torch.zeros((b, t, t))
        att = att.masked_fill(self.bias[:, :t, :t] == 0, float("-inf"))
        return F.softmax(att, dim=-1) @ x


class BoW(nn.Module):
    def __init__(self, vocab_size, block_size, n_embd=8):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.bow = CausalBoW(block_size)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * n_embd, n_embd))
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long).unsqueeze(0)
        x = self.wte(idx) + self.wpe(pos)
        x = x + self.bow(x)
        x = x + self.mlp(x)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


def classifier(n_in, n_classes, hidden=16):
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(n_in, hidden), nn.ReLU(inplace=True),
        nn.Dropout(0.0),
        nn.Linear(hidden, hidden), nn.LeakyReLU(0.1, inplace=True),
        nn.Linear(hidden, n_classes),
    )


def train_classifier(model, images, labels, epochs=3, batch_size=8):
    """A tutorial's loop: a DataLoader, a loss module, SGD with momentum and weight decay."""
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=False)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                weight_decay=1e-4)
    losses = []
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        accuracy = (model(images).argmax(dim=1) == labels).float().mean().item()
    return losses, accuracy


class AutoEncoder(nn.Module):
    def __init__(self, n_in, n_code=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_in, 8), nn.SiLU(), nn.Linear(8, n_code))
        self.decoder = nn.Sequential(nn.Linear(n_code, 8), nn.ELU(), nn.Linear(8, n_in))

    def forward(self, x):
        code = self.encoder(x)
        return self.decoder(F.normalize(code, dim=1) * math.sqrt(code.size(1)))


def autoencoder_losses(model, x, steps=5):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, (x > 0).float().to(x.dtype)) + \
            0.1 * F.mse_loss(torch.sigmoid(logits), torch.sigmoid(x))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


class SequenceClassifier(nn.Module):
    """Padded sequences of token ids (0 is padding) through a Transformer encoder that
    ignores the padding, averaged over the real tokens, classified."""

    def __init__(self, vocab_size, n_classes, block_size=8, d_model=8, nhead=2, n_layer=2):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.wpe = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model,
                                           dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layer, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, n_classes)

    def forward(self, idx):
        padding = idx == 0
        pos = torch.arange(idx.size(1)).unsqueeze(0)
        x = self.encoder(self.wte(idx) + self.wpe(pos), src_key_padding_mask=padding)
        real = (~padding).unsqueeze(-1).to(x.dtype)
        return self.head((x * real).sum(1) / real.sum(1))


class LeNet(nn.Module):
    """Two convolutions (the first batch-normed), pooled, then a linear classifier."""

    def __init__(self, n_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, padding=1),  # (b, 4, 12, 12)
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),  # (b, 4, 6, 6)
            nn.Conv2d(4, 8, kernel_size=3),  # (b, 8, 4, 4)
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((2, 2)),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(8 * 2 * 2, n_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
