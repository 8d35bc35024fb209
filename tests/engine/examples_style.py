"""Small models and training steps in the manner of PyTorch's official examples
(github.com/pytorch/examples), rewritten small and with synthetic data in mind: the word
language model (an embedding, a recurrent layer or a Transformer encoder with sinusoidal
positions, a tied decoder; gradients clipped, hidden states detached between batches, a
hand-written SGD step), the MNIST CNN (Adadelta and a StepLR), the VAE (binary cross-entropy
summed, a KL term, the reparameterization), DCGAN (transposed convolutions, batch norm,
weights set by ``apply``), the sine-wave LSTMCell predictor, the row-by-row MNIST LSTM, and
the graph networks GCN and GAT on a dense adjacency matrix.

Only the import lines below name tensorgrad: ``tests/engine/test_pytorch_examples.py`` runs
this file as it is and again with them pointed back at ``torch``, and holds the two to the
same numbers.
"""

import math

import tensorgrad as torch
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

# ---- word_language_model --------------------------------------------------------------------


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.0, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ("LSTM", "GRU"):
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def forward(self, input, hidden):
        output, hidden = self.rnn(self.drop(self.encoder(input)), hidden)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.0, max_len=64):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0), :])


class TransformerModel(nn.Transformer):
    """An ``nn.Transformer`` subclass of which only the encoder runs, as the example's."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.0):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                         num_encoder_layers=nlayers, dropout=dropout)
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                # -inf above the diagonal: log of a lower triangle of ones
                self.src_mask = torch.log(torch.tril(torch.ones(len(src), len(src)))).to(
                    src.device)
        else:
            self.src_mask = None
        src = self.pos_encoder(self.input_emb(src) * math.sqrt(self.ninp))
        output = self.decoder(self.encoder(src, mask=self.src_mask))
        return F.log_softmax(output, dim=-1)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    return data.narrow(0, 0, nbatch * bsz).view(bsz, -1).t().contiguous()


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def language_model_steps(model, source, bptt, lr, clip, use_optimizer, steps):
    """The example's train(): per batch its loss, the gradients' total norm before clipping,
    and every gradient after clipping."""
    criterion = nn.NLLLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr) if use_optimizer else None
    recurrent = not isinstance(model, TransformerModel)
    hidden = model.init_hidden(source.size(1)) if recurrent else None
    model.train()
    results = []
    for i in range(0, bptt * steps, bptt):
        seq_len = min(bptt, len(source) - 1 - i)
        data, targets = source[i:i + seq_len], source[i + 1:i + 1 + seq_len].view(-1)
        if optimizer:
            optimizer.zero_grad()
        else:
            model.zero_grad()
        if recurrent:
            hidden = repackage_hidden(hidden)
            output, hidden = model(data, hidden)
        else:
            output = model(data).view(-1, model.decoder.out_features)
        loss = criterion(output, targets)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        if optimizer:
            optimizer.step()
        else:
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
        results.append((loss.item(), norm, grads))
    return results


def evaluate_language_model(model, source, bptt):
    model.eval()
    criterion = nn.NLLLoss()
    total = 0.0
    recurrent = not isinstance(model, TransformerModel)
    hidden = model.init_hidden(source.size(1)) if recurrent else None
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, bptt):
            seq_len = min(bptt, len(source) - 1 - i)
            data, targets = source[i:i + seq_len], source[i + 1:i + 1 + seq_len].view(-1)
            if recurrent:
                output, hidden = model(data, hidden)
                hidden = repackage_hidden(hidden)
            else:
                output = model(data).view(-1, model.decoder.out_features)
            total += len(data) * criterion(output, targets).item()
    return total / (len(source) - 1)


# ---- mnist ------------------------------------------------------------------------------------


class MnistNet(nn.Module):
    """The example's CNN, for 12x12 images and fewer channels."""

    def __init__(self, dropout=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.fc1 = nn.Linear(128, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = self.dropout2(F.relu(self.fc1(torch.flatten(x, 1))))
        return F.log_softmax(self.fc2(x), dim=1)


def classifier_steps(model, data, target, steps, lr=1.0, gamma=0.7):
    """Adadelta with the learning rate stepped down each epoch (one batch an epoch here), then
    the example's test(): summed loss and the number right."""
    optimizer = torch.optim.Adadelta(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    model.train()
    results = []
    for _ in range(steps):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        results.append((output, loss, {n: p.grad.clone() for n, p in model.named_parameters()}))
        optimizer.step()
        scheduler.step()
    model.eval()
    with torch.no_grad():
        output = model(data)
        test_loss = F.nll_loss(output, target, reduction="sum").item()
        pred = output.argmax(dim=1, keepdim=True)
        correct = pred.eq(target.view_as(pred)).sum().item()
    return results, test_loss, correct, scheduler.get_last_lr()


# ---- vae --------------------------------------------------------------------------------------


class VAE(nn.Module):
    def __init__(self, n_in=16, n_hidden=12, n_latent=4):
        super().__init__()
        self.n_in = n_in
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc21 = nn.Linear(n_hidden, n_latent)
        self.fc22 = nn.Linear(n_hidden, n_latent)
        self.fc3 = nn.Linear(n_latent, n_hidden)
        self.fc4 = nn.Linear(n_hidden, n_in)

    def reparameterize(self, mu, logvar, eps=None):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std) if eps is None else eps  # (given: to compare two engines)
        return mu + eps * std

    def forward(self, x, eps=None):
        h1 = F.relu(self.fc1(x.view(-1, self.n_in)))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        z = self.reparameterize(mu, logvar, eps)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def vae_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(recon_x.shape), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def vae_steps(model, data, noises):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    results = []
    for eps in noises:
        optimizer.zero_grad()
        recon, mu, logvar = model(data, eps)
        loss = vae_loss(recon, data, mu, logvar)
        loss.backward()
        results.append((recon, loss, {n: p.grad.clone() for n, p in model.named_parameters()}))
        optimizer.step()
    return results


# ---- dcgan ------------------------------------------------------------------------------------


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """Noise (nz x 1 x 1) to a 16x16 image of nc channels."""

    def __init__(self, nz=6, ngf=4, nc=3, ngpu=1):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, input):
        if (input.is_cuda or input.is_xpu) and self.ngpu > 1:
            return nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ndf=4, nc=3, ngpu=1):
        super().__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, input):
        if (input.is_cuda or input.is_xpu) and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def dcgan_steps(net_g, net_d, reals, noises, lr=2e-4, beta1=0.5):
    """The example's loop: D on real images (label 1) and on detached fakes (label 0, the
    label tensor refilled in place), then G through D with label 1."""
    criterion = nn.BCELoss()
    optimizer_d = torch.optim.Adam(net_d.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizer_g = torch.optim.Adam(net_g.parameters(), lr=lr, betas=(beta1, 0.999))
    results = []
    for real, noise in zip(reals, noises):
        net_d.zero_grad()
        label = torch.full((real.size(0),), 1, dtype=real.dtype, device=real.device)
        output = net_d(real)
        err_d_real = criterion(output, label)
        err_d_real.backward()
        fake = net_g(noise)
        label.fill_(0)
        output = net_d(fake.detach())
        err_d_fake = criterion(output, label)
        err_d_fake.backward()
        grads_d = {n: p.grad.clone() for n, p in net_d.named_parameters()}
        optimizer_d.step()
        net_g.zero_grad()
        label.fill_(1)
        output = net_d(fake)
        err_g = criterion(output, label)
        err_g.backward()
        grads_g = {n: p.grad.clone() for n, p in net_g.named_parameters()}
        optimizer_g.step()
        results.append((fake, err_d_real + err_d_fake, err_g, output.mean(), grads_d, grads_g))
    return results


# ---- time_sequence_prediction -----------------------------------------------------------------


class Sequence(nn.Module):
    def __init__(self, n_hidden=8):
        super().__init__()
        self.n_hidden = n_hidden
        self.lstm1 = nn.LSTMCell(1, n_hidden)
        self.lstm2 = nn.LSTMCell(n_hidden, n_hidden)
        self.linear = nn.Linear(n_hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t, c_t, h_t2, c_t2 = (torch.zeros(input.size(0), self.n_hidden, dtype=torch.double)
                                for _ in range(4))
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # fed its own predictions
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


def sequence_steps(seq, input, target, test_input, test_target, steps, future=5):
    """The example's closure-driven steps (SGD here: there is no LBFGS to compare), then a
    prediction ``future`` steps past the test inputs."""
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(seq.parameters(), lr=0.5)
    losses = []

    def closure():
        optimizer.zero_grad()
        loss = criterion(seq(input), target)
        losses.append(loss.item())
        loss.backward()
        return loss

    for _ in range(steps):
        optimizer.step(closure)
    with torch.no_grad():
        pred = seq(test_input, future=future)
        losses.append(criterion(pred[:, :-future], test_target).item())
    return losses, pred.detach().numpy()


# ---- mnist_rnn --------------------------------------------------------------------------------


class RowLSTM(nn.Module):
    """The image read row by row by an LSTM; its last output through batch norm and two
    linear layers."""

    def __init__(self, rows=6, n_hidden=8, dropout=0.0):
        super().__init__()
        self.rows = rows
        self.rnn = nn.LSTM(input_size=rows, hidden_size=n_hidden, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(n_hidden)
        self.dropout1 = nn.Dropout2d(dropout)
        self.dropout2 = nn.Dropout2d(dropout)
        self.fc1 = nn.Linear(n_hidden, 8)
        self.fc2 = nn.Linear(8, 10)

    def forward(self, input):
        output, _ = self.rnn(input.reshape(-1, self.rows, self.rows))
        output = self.dropout1(self.batchnorm(output[:, -1, :]))
        output = self.dropout2(F.relu(self.fc1(output)))
        return F.log_softmax(self.fc2(output), dim=1)


# ---- gcn and gat (the adjacency matrix dense) -------------------------------------------------


class GraphConv(nn.Module):
    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.kernel = nn.Parameter(torch.Tensor(input_dim, output_dim))
        nn.init.xavier_normal_(self.kernel)
        self.bias = nn.Parameter(torch.Tensor(output_dim))
        nn.init.zeros_(self.bias)

    def forward(self, input_tensor, adj_mat):
        return torch.spmm(adj_mat, torch.mm(input_tensor, self.kernel)) + self.bias


class GCN(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, dropout_p=0.0):
        super().__init__()
        self.gc1 = GraphConv(input_dim, hidden_dim)
        self.gc2 = GraphConv(hidden_dim, output_dim)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input_tensor, adj_mat):
        x = self.dropout(F.relu(self.gc1(input_tensor, adj_mat)))
        return F.log_softmax(self.gc2(x, adj_mat), dim=1)


class GraphAttentionLayer(nn.Module):
    def __init__(self, in_features, out_features, n_heads, concat=False, dropout=0.0,
                 leaky_relu_slope=0.2):
        super().__init__()
        self.n_heads, self.concat, self.dropout = n_heads, concat, dropout
        self.n_hidden = out_features // n_heads if concat else out_features
        self.W = nn.Parameter(torch.empty(size=(in_features, self.n_hidden * n_heads)))
        self.a = nn.Parameter(torch.empty(size=(n_heads, 2 * self.n_hidden, 1)))
        self.leakyrelu = nn.LeakyReLU(leaky_relu_slope)
        nn.init.xavier_normal_(self.W)
        nn.init.xavier_normal_(self.a)

    def forward(self, h, adj_mat):
        n_nodes = h.shape[0]
        h_transformed = F.dropout(torch.mm(h, self.W), self.dropout, training=self.training)
        h_transformed = h_transformed.view(n_nodes, self.n_heads, self.n_hidden).permute(1, 0, 2)
        source = torch.matmul(h_transformed, self.a[:, :self.n_hidden, :])
        target = torch.matmul(h_transformed, self.a[:, self.n_hidden:, :])
        e = self.leakyrelu(source + target.mT)
        e = torch.where(adj_mat > 0, e, -9e16 * torch.ones_like(e))  # attend along edges only
        attention = F.dropout(F.softmax(e, dim=-1), self.dropout, training=self.training)
        h_prime = torch.matmul(attention, h_transformed)
        if self.concat:
            return h_prime.permute(1, 0, 2).contiguous().view(n_nodes, -1)
        return h_prime.mean(dim=0)


class GAT(nn.Module):
    def __init__(self, in_features, n_hidden, n_heads, num_classes, dropout=0.0):
        super().__init__()
        self.gat1 = GraphAttentionLayer(in_features, n_hidden, n_heads, concat=True,
                                        dropout=dropout)
        self.gat2 = GraphAttentionLayer(n_hidden, num_classes, 1, concat=False, dropout=dropout)

    def forward(self, input_tensor, adj_mat):
        x = F.elu(self.gat1(input_tensor, adj_mat))
        return F.log_softmax(self.gat2(x, adj_mat), dim=1)


def normalized_adjacency(edges, n_nodes):
    """GCN's renormalization D^-1/2 (A + I) D^-1/2 of an edge list, dense (the example builds
    it sparse); a node without edges but its loop keeps degree 1."""
    adj = torch.eye(n_nodes)
    for i, j in edges:
        adj[i, j] += 1
    degree = torch.sqrt(1 / torch.sum(adj, dim=1))
    degree[degree == float("inf")] = 0
    degree = torch.diag(degree)
    return degree @ adj @ degree


def graph_steps(model, features, adj, labels, train_idx, val_idx, steps):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=5e-4)
    criterion = nn.NLLLoss()
    results = []
    for _ in range(steps):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss = criterion(output[train_idx], labels[train_idx])
        loss.backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        optimizer.step()
        model.eval()
        with torch.no_grad():
            output = model(features, adj)[val_idx]
            accuracy = (output.argmax(dim=1) == labels[val_idx]).float().sum() / len(val_idx)
        results.append((loss, grads, criterion(output, labels[val_idx]), accuracy))
    return results
