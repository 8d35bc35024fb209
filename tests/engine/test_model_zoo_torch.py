"""Third-party styles of model code (``zoo_models.py``) on tensorgrad and on PyTorch: a
Llama-style decoder, HuggingFace's GPT-2, a ViT, a ResNet, a U-Net denoiser with its
diffusion schedule, a convolutional VAE and an LSTM sequence-to-sequence model. PyTorch's
model, seeded by PyTorch, hands its weights to ours as NumPy arrays; then the two must
compute the same losses and every parameter's gradient step after step, reach the same
weights, and generate or infer the same. Float64 on both sides (dropout off, the same noise
fed to both), and once in float32. Skipped without torch.
"""

from __future__ import annotations

import numpy as np
import pytest
import zoo_models as ours
from pointed_back import pointed_back

import tensorgrad

torch = pytest.importorskip("torch")

theirs = pointed_back(ours)
pytestmark = pytest.mark.usefixtures("torch_float64_one_thread")
RTOL = {"float64": 1e-7, "float32": 2e-4}


def pair(name: str, *args, dtype: str = "float64", **kwargs):
    """PyTorch's model and ours in ``dtype``, ours holding PyTorch's weights and buffers."""
    torch.manual_seed(0)
    reference = getattr(theirs, name)(*args, **kwargs).to(getattr(torch, dtype))
    tensorgrad.manual_seed(0)
    model = getattr(ours, name)(*args, **kwargs).to(getattr(tensorgrad, dtype))
    result = model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return model, reference


def to_numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, tensorgrad.Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def assert_close(mine, their, what: str, rtol: float = RTOL["float64"]) -> None:
    """The same structure, dtypes, shapes and values, to ``rtol`` of each array's scale."""
    if isinstance(their, dict):
        assert list(mine) == list(their), what
        for name in their:
            assert_close(mine[name], their[name], f"{what}: {name}", rtol)
        return
    if isinstance(their, (tuple, list)):
        assert len(mine) == len(their), what
        for i, (a, b) in enumerate(zip(mine, their)):
            assert_close(a, b, f"{what}[{i}]", rtol)
        return
    if their is None:
        assert mine is None, what
        return
    expected, got = to_numpy(their), to_numpy(mine)
    assert got.dtype == expected.dtype, f"{what}: dtype {got.dtype}, PyTorch's {expected.dtype}"
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, PyTorch's {expected.shape}"
    # a floor for arrays of rounding noise (a gradient that is zero but for rounding)
    scale = max(float(np.abs(expected).max()), 1e-6) if expected.size else 1.0
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def both(array):
    """``array`` as our tensor and as PyTorch's."""
    return tensorgrad.from_numpy(np.array(array)), torch.from_numpy(np.array(array))


# ---- the Llama-style decoder ----------------------------------------------------------------


@pytest.mark.parametrize("kv_repeat", ["expand", "interleave"])
def test_llama_trains_and_generates_with_its_kv_cache_as_torchs(kv_repeat):
    config = dict(kv_repeat=kv_repeat)
    model, reference = pair("Llama", ours.LlamaConfig(**config))
    assert "rotary.cos_cached" not in reference.state_dict()  # (non-persistent: not handed over)
    assert_close(model.rotary.cos_cached, reference.rotary.cos_cached, "the cosines")
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 23, (2, 7)) for _ in range(3)]
    results = ours.llama_steps(model, [tensorgrad.from_numpy(b) for b in batches])
    their_results = theirs.llama_steps(reference, [torch.from_numpy(b) for b in batches])
    assert_close(results, their_results, "(loss, gradients) by step")
    assert_close(model.state_dict(), reference.state_dict(), "the weights after the steps")

    prompt, their_prompt = both(batches[0][:, :3])
    generated = model.generate(prompt, 5, temperature=0.7, top_k=4, greedy=True)
    assert_close(generated, reference.generate(their_prompt, 5, temperature=0.7, top_k=4,
                                               greedy=True), "greedy tokens")
    # the cache changes nothing: the whole sequence at once gives the last step's logits
    full, _, _ = model(generated[:, :-1])
    cached = model(generated[:, :-2])[1]
    step, _, _ = model(generated[:, -2:-1], cached, start_pos=generated.shape[1] - 2)
    assert_close(step[:, -1], full[:, -1], "the cached step's logits", 1e-12)
    tensorgrad.manual_seed(1)
    sampled = model.generate(prompt, 4, top_k=3)
    assert sampled.shape == (2, 7) and sampled.dtype == tensorgrad.int64
    assert (sampled[:, :3] == prompt).all() and 0 <= int(sampled.min()) <= int(sampled.max()) < 23


# ---- HuggingFace's GPT-2 --------------------------------------------------------------------


def test_hf_gpt2_trains_on_padded_batches_and_generates_with_past_key_values_as_torchs():
    model, reference = pair("GPT2LMHeadModel", ours.GPT2Config())
    assert model.lm_head.weight is model.wte.weight
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 29, (3, 6))
    mask = np.ones((3, 6), dtype=np.int64)
    mask[1, :2] = mask[2, :1] = 0  # left padding
    ids[mask == 0] = 0
    (input_ids, their_ids), (attention_mask, their_mask) = both(ids), both(mask)
    results = ours.gpt2_steps(model, input_ids, attention_mask, 3)
    their_results = theirs.gpt2_steps(reference, their_ids, their_mask, 3)
    assert_close(results, their_results, "(loss, gradients) by step")
    assert_close(model.state_dict(), reference.state_dict(), "the weights after the steps")

    generated = model.greedy_generate(input_ids, attention_mask, 4)
    assert_close(generated, reference.greedy_generate(their_ids, their_mask, 4), "greedy tokens")
    loss, logits, presents = model(input_ids, attention_mask=attention_mask, use_cache=True)
    _, their_logits, their_presents = reference(their_ids, attention_mask=their_mask,
                                                use_cache=True)
    assert loss is None
    assert_close(logits, their_logits, "logits")
    assert_close(presents, their_presents, "past_key_values")


# ---- a ViT ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hand_written, pool", [(False, "cls"), (True, "mean")])
def test_vit_trains_with_label_smoothing_as_torchs(hand_written, pool):
    model, reference = pair("ViT", hand_written=hand_written, pool=pool)
    rng = np.random.default_rng(2)
    images, their_images = both(rng.standard_normal((3, 3, 8, 8)))
    labels, their_labels = both(rng.integers(0, 5, 3))
    results = ours.vit_steps(model, images, labels, 3)
    their_results = theirs.vit_steps(reference, their_images, their_labels, 3)
    assert_close(results, their_results, "((loss, gradients) by step, probabilities)")
    assert_close(model.state_dict(), reference.state_dict(), "the weights after the steps")


def test_vit_fine_tunes_at_a_higher_resolution_its_positions_resized_bicubic_as_torchs():
    model, reference = pair("ViT", hand_written=True)
    ours.resize_pos_embed(model, 12, 4)
    theirs.resize_pos_embed(reference, 12, 4)
    assert_close(model.pos_embed, reference.pos_embed, "the resized positions")
    rng = np.random.default_rng(9)
    images, their_images = both(rng.standard_normal((2, 3, 12, 12)))
    labels, their_labels = both(rng.integers(0, 5, 2))
    results = ours.vit_steps(model, images, labels, 2)
    their_results = theirs.vit_steps(reference, their_images, their_labels, 2)
    assert_close(results, their_results, "((loss, gradients) by step, probabilities)")


def test_vit_initializes_as_its_authors_meant():
    tensorgrad.manual_seed(0)
    model = ours.ViT(img_size=16, patch_size=2, embed_dim=32)
    pos = model.pos_embed.detach().numpy()
    assert pos.shape == (1, 65, 32) and np.abs(pos).max() <= 2.0  # truncated at +-2
    assert 0.015 < pos.std() < 0.025
    assert np.abs(model.cls_token.detach().numpy()).max() < 1e-5
    assert not model.head.bias.detach().numpy().any()


# ---- a ResNet -------------------------------------------------------------------------------


@pytest.mark.parametrize("zero_init_residual, channels_last", [(False, False), (True, True)])
def test_resnet_trains_with_nesterov_sgd_and_a_cosine_schedule_as_torchs(zero_init_residual,
                                                                         channels_last):
    model, reference = pair("ResNet", zero_init_residual=zero_init_residual)
    if zero_init_residual:
        assert not model.layer1[0].bn2.weight.detach().numpy().any()
    rng = np.random.default_rng(3)
    images, their_images = both(rng.standard_normal((4, 3, 16, 16)))
    labels, their_labels = both(rng.integers(0, 6, 4))
    results = ours.resnet_steps(model, images, labels, 3, channels_last=channels_last)
    their_results = theirs.resnet_steps(reference, their_images, their_labels, 3,
                                        channels_last=channels_last)
    if channels_last:
        assert model.conv1.weight.stride() == reference.conv1.weight.stride() == (27, 1, 9, 3)
    assert_close(results[:2], their_results[:2], "(loss, gradients) by step, eval outputs")
    assert results[2:] == their_results[2:]  # the number right, the last learning rate
    assert_close(model.state_dict(), reference.state_dict(), "the state after the steps")


# ---- a U-Net denoiser and its diffusion schedule --------------------------------------------


@pytest.mark.parametrize("schedule, loss_type", [("linear", "l2"), ("cosine", "huber")])
def test_unet_denoiser_trains_and_samples_as_torchs(schedule, loss_type):
    model, reference = pair("UNet")
    diffusion, their_diffusion = ours.Diffusion(10, schedule), theirs.Diffusion(10, schedule)
    assert_close(diffusion.posterior_variance, their_diffusion.posterior_variance, "schedule")
    rng = np.random.default_rng(4)
    images, their_images = both(rng.uniform(-1, 1, (2, 1, 8, 8)))
    timesteps = [both(rng.integers(0, 10, 2)) for _ in range(3)]
    noises = [both(rng.standard_normal((2, 1, 8, 8))) for _ in range(10)]
    results, ema = ours.diffusion_steps(model, diffusion, images, [t[0] for t in timesteps],
                                        [n[0] for n in noises[:3]], loss_type)
    their_results, their_ema = theirs.diffusion_steps(
        reference, their_diffusion, their_images, [t[1] for t in timesteps],
        [n[1] for n in noises[:3]], loss_type)
    assert_close(results, their_results, "(loss, gradients) by step")
    assert_close(model.state_dict(), reference.state_dict(), "the weights after the steps")
    assert_close(ema.state_dict(), their_ema.state_dict(), "the moving average")
    assert all(not p.requires_grad for p in ema.parameters()) and not ema.training
    samples = diffusion.p_sample_loop(ema, [n[0] for n in noises])
    assert_close(samples, their_diffusion.p_sample_loop(their_ema, [n[1] for n in noises]),
                 "samples")


# ---- a convolutional VAE, and an LSTM sequence-to-sequence model ----------------------------


def test_conv_vae_trains_on_the_same_noise_as_torchs():
    model, reference = pair("ConvVAE")
    rng = np.random.default_rng(5)
    images, their_images = both(rng.uniform(0, 1, (3, 1, 8, 8)))
    noises = [both(rng.standard_normal((3, 3))) for _ in range(3)]
    results = ours.conv_vae_steps(model, images, [n[0] for n in noises])
    their_results = theirs.conv_vae_steps(reference, their_images, [n[1] for n in noises])
    assert_close(results, their_results, "((loss, gradients) by step, samples)")
    assert_close(model.state_dict(), reference.state_dict(), "the weights after the steps")
    tensorgrad.manual_seed(0)  # its own noise: randn_like's, of std's shape and dtype
    recon, mu, _ = model(images)
    assert recon.shape == (3, 1, 8, 8) and recon.dtype == mu.dtype == tensorgrad.float64


def test_seq2seq_with_packed_sequences_and_attention_trains_and_translates_as_torchs():
    model, reference = pair("Seq2Seq")
    lengths = np.array([5, 2, 4])  # not sorted: enforce_sorted=False sorts them
    src = np.zeros((3, 5), dtype=np.int64)
    rng = np.random.default_rng(6)
    for row, n in enumerate(lengths):
        src[row, :n] = rng.integers(1, 13, n)
    trg = rng.integers(3, 11, (3, 6))
    trg[:, 0] = 1
    trg[1, 4:] = 0  # padding: ignored by the loss
    forcing = [[True, True, False, True, False, True], [True] * 6, [False] * 6]
    (s, their_s), (n, their_n), (t, their_t) = both(src), both(lengths), both(trg)
    results = ours.seq2seq_steps(model, s, n, t, forcing)
    their_results = theirs.seq2seq_steps(reference, their_s, their_n, their_t, forcing)
    assert_close(results, their_results, "(loss, norm before clipping, gradients) by step")
    assert_close(model.state_dict(), reference.state_dict(), "the weights after the steps")
    assert not model.encoder.embedding.weight.grad.numpy()[0].any()  # padding_idx's row
    translated = model.translate(s, n, 1, 4)
    assert_close(translated, reference.translate(their_s, their_n, 1, 4), "(tokens, attention)")
    assert not translated[1].numpy()[1, :, 2:].any()  # nothing on the padding


# ---- once in float32 ------------------------------------------------------------------------


def test_llama_and_hf_gpt2_train_in_float32_as_torchs():
    rtol = RTOL["float32"]
    model, reference = pair("Llama", ours.LlamaConfig(), dtype="float32")
    assert model.rotary.cos_cached.dtype == tensorgrad.float32
    rng = np.random.default_rng(7)
    batches = [rng.integers(0, 23, (2, 7)) for _ in range(3)]
    results = ours.llama_steps(model, [tensorgrad.from_numpy(b) for b in batches])
    their_results = theirs.llama_steps(reference, [torch.from_numpy(b) for b in batches])
    assert_close(results, their_results, "Llama: (loss, gradients) by step", rtol)

    model, reference = pair("GPT2LMHeadModel", ours.GPT2Config(), dtype="float32")
    (ids, their_ids) = both(rng.integers(1, 29, (2, 5)))
    (mask, their_mask) = both(np.ones((2, 5), dtype=np.int64))
    results = ours.gpt2_steps(model, ids, mask, 3)
    their_results = theirs.gpt2_steps(reference, their_ids, their_mask, 3)
    assert_close(results, their_results, "GPT-2: (loss, gradients) by step", rtol)
    assert_close(model.greedy_generate(ids, mask, 3),
                 reference.greedy_generate(their_ids, their_mask, 3), "greedy tokens")


def test_resnet_and_unet_train_in_float32_as_torchs():
    rtol = RTOL["float32"]
    model, reference = pair("ResNet", dtype="float32")
    rng = np.random.default_rng(8)
    images, their_images = both(rng.standard_normal((4, 3, 16, 16)).astype(np.float32))
    labels, their_labels = both(rng.integers(0, 6, 4))
    results = ours.resnet_steps(model, images, labels, 1)
    their_results = theirs.resnet_steps(reference, their_images, their_labels, 1)
    # one step only: float32 rounding flips the sign of a few pre-ReLU values near 0 on one
    # side, not the other, and later gradients differ by as much as 1% (PyTorch's float32
    # against its float64 too)
    assert_close(results[0], their_results[0], "ResNet: (loss, gradients)", rtol)

    model, reference = pair("UNet", dtype="float32")
    diffusion, their_diffusion = ours.Diffusion(10), theirs.Diffusion(10)
    images, their_images = both(rng.uniform(-1, 1, (2, 1, 8, 8)).astype(np.float32))
    timesteps = [both(rng.integers(0, 10, 2)) for _ in range(3)]
    noises = [both(rng.standard_normal((2, 1, 8, 8)).astype(np.float32)) for _ in range(3)]
    results, _ = ours.diffusion_steps(model, diffusion, images, [t[0] for t in timesteps],
                                      [n[0] for n in noises], "l2")
    their_results, _ = theirs.diffusion_steps(reference, their_diffusion, their_images,
                                              [t[1] for t in timesteps], [n[1] for n in noises],
                                              "l2")
    assert_close(results, their_results, "U-Net: (loss, gradients) by step", rtol)
