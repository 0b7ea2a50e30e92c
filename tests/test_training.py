"""The model, the in-memory data path, augmentations, the split and the training loop."""

import math

import numpy as np
import pytest
import torch

from gridscape.config import validate
from gridscape.data.augment import apply_augmentations
from gridscape.data.loader import TensorData
from gridscape.data.split import class_counts, stratified_split
from gridscape.device import DeviceError, resolve_device
from gridscape.models import build_model
from gridscape.train import evaluate, seed_everything, train


def test_lenet5_shapes_and_parameter_count():
    model = build_model({"name": "lenet5", "activation": "relu"}, (3, 32, 32), 10)
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    # conv1 3*6*25+6, conv2 6*16*25+16, fc 400*120+120, 120*84+84, 84*10+10
    assert sum(p.numel() for p in model.parameters()) == 456 + 2416 + 48120 + 10164 + 850
    mnist = build_model({"name": "lenet5", "activation": "tanh"}, (1, 28, 28), 10)
    assert mnist(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert mnist.classifier[1].in_features == 400


def test_unknown_model_names_the_key():
    with pytest.raises(KeyError, match="model.name"):
        build_model({"name": "vgg99"}, (3, 32, 32), 10)


def test_cuda_asked_without_gpu_is_an_error_not_a_fallback():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(DeviceError, match="device: cpu"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


def test_split_is_stratified_disjoint_and_seeded():
    labels = np.repeat(np.arange(10), 50)
    split = stratified_split(labels, 0.1, seed=42)
    train = split[split.subset == "train"]
    val = split[split.subset == "val"]
    assert len(val) == 50 and len(train) == 450
    assert set(train["index"]).isdisjoint(val["index"])
    assert set(train["index"]) | set(val["index"]) == set(range(500))
    assert (np.bincount(val["label"], minlength=10) == 5).all()
    assert split.equals(stratified_split(labels, 0.1, seed=42))
    assert not split.equals(stratified_split(labels, 0.1, seed=43))
    counts = class_counts(split, np.arange(10), [str(i) for i in range(10)])
    assert counts[["train", "val", "test"]].sum().tolist() == [450, 50, 10]


def test_split_too_small_for_the_classes():
    with pytest.raises(ValueError, match="split.val_fraction"):
        stratified_split(np.repeat(np.arange(10), 3), 0.1, seed=0)


def test_normalisation_matches_torchvision_to_tensor_normalize():
    images = np.random.default_rng(0).integers(0, 256, (4, 3, 8, 8), dtype=np.uint8)
    mean, std = [0.49, 0.48, 0.45], [0.25, 0.24, 0.26]
    data = TensorData.from_arrays(images, np.zeros(4), mean, std, torch.device("cpu"), channels_last=False)
    (batch, _), = list(data.batches(4))
    expected = (torch.from_numpy(images).float() / 255 - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    assert torch.allclose(batch, expected, atol=1e-5)


def test_shuffled_batches_cover_every_image_once():
    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)
    data = TensorData.from_arrays(images, np.arange(10), [0.0], [1 / 255], torch.device("cpu"))
    seen = torch.cat([labels for _, labels in data.batches(3, torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == list(range(10))
    assert seen.tolist() != list(range(10))


@pytest.mark.parametrize("name", ["hflip", "vflip", "rotate10", "rotate90", "shift5", "crop4", "contrast", "noise"])
def test_augmentations_keep_shape_and_range(name):
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    out = apply_augmentations(images, [name], torch.Generator().manual_seed(0), probability=1.0)
    assert out.shape == images.shape
    assert float(out.min()) >= 0 and float(out.max()) <= 255
    assert not torch.equal(out.float(), images.float())
    again = apply_augmentations(images, [name], torch.Generator().manual_seed(0), probability=1.0)
    assert torch.equal(out, again)


def test_hflip_and_shift_are_exact():
    images = torch.arange(2 * 1 * 4 * 4, dtype=torch.uint8).view(2, 1, 4, 4)
    flipped = apply_augmentations(images, ["hflip"], None, probability=1.0)
    assert torch.equal(flipped, images.flip(3))
    shifted = apply_augmentations(images, ["shift5"], torch.Generator().manual_seed(3), probability=1.0)
    # every shifted image is the original moved by whole pixels, zeros filling the border
    for original, moved in zip(images, shifted):
        nonzero = moved[moved > 0]
        assert set(nonzero.tolist()) <= set(original.flatten().tolist())


def test_crop4_is_a_padded_random_crop_of_every_image():
    images = torch.randint(1, 256, (64, 1, 8, 8), dtype=torch.uint8)
    cropped = apply_augmentations(images, ["crop4"], torch.Generator().manual_seed(0), probability=0.0)
    offsets = set()
    for original, crop in zip(images, cropped):
        padded = torch.nn.functional.pad(original, (4, 4, 4, 4))
        matches = [(dy, dx) for dy in range(9) for dx in range(9) if torch.equal(padded[:, dy : dy + 8, dx : dx + 8], crop)]
        assert len(matches) == 1  # some 8x8 window of the zero-padded image
        offsets.add(matches[0])
    # probability does not apply to the crop: most of 64 images move, in all directions
    assert len(offsets) > 20
    assert {dy for dy, _ in offsets} >= {0, 8} or len({dy for dy, _ in offsets}) >= 6


def tiny_problem(n=200, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 60, (n, 1, 28, 28)).astype(np.uint8)
    for c in range(3):  # class c is bright in its own band of rows
        images[labels == c, :, c * 9 : c * 9 + 9, :] += 150
    data = TensorData.from_arrays(images, labels, [0.3], [0.3], torch.device("cpu"))
    return data


def training_config(**overrides):
    config = validate({"study": "t", "train": {"batch_size": 32, "epochs": 3, **overrides}, "optimizer": {"lr": 0.05, "momentum": 0.5}})
    return config


def test_training_learns_and_history_matches_evaluate():
    config = training_config()
    data = tiny_problem()
    seed_everything(0)
    model = build_model(config["model"], (1, 28, 28), 3)
    result = train(model, data, data, config["optimizer"], config["train"], progress=False)
    assert result.status == "ok"
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    last = result.history[-1]
    assert last["val_acc"] > 0.9
    loss, acc = evaluate(model, data, 1000)
    assert loss == pytest.approx(last["val_loss"], rel=1e-6) and acc == last["val_acc"]


def test_training_is_deterministic_for_a_seed():
    config = training_config()
    histories = []
    for _ in range(2):
        seed_everything(5)
        model = build_model(config["model"], (1, 28, 28), 3)
        histories.append(train(model, tiny_problem(), tiny_problem(1), config["optimizer"], config["train"], progress=False).history)
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]
    assert strip(histories[0]) == strip(histories[1])


def reference_epochs(model, data, config):
    """The plain loop ``train`` must equal: PyTorch's per-parameter SGD step (``foreach=False``)
    and running float64 sums of the loss and the hits on the device, step after step."""
    opt = config["optimizer"]
    optimizer = torch.optim.SGD(model.parameters(), lr=opt["lr"], momentum=opt["momentum"],
                                weight_decay=opt["weight_decay"], foreach=False)
    generator = torch.Generator().manual_seed(int(config["train"]["seed"]))
    rows = []
    for _ in range(int(config["train"]["epochs"])):
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        for images, labels in data.batches(int(config["train"]["batch_size"]), generator):
            logits = model(images)
            loss = torch.nn.functional.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach().double() * labels.shape[0]
            correct += (logits.detach().argmax(dim=1) == labels).sum()
        rows.append((float(loss_sum) / len(data), int(correct) / len(data)))
    return rows


def test_training_equals_the_plain_loop_bit_for_bit():
    """The multi-tensor optimiser step and the end-of-epoch sums are speed only: the weights and
    the logged training loss and accuracy are the plain loop's, bit for bit (batch 32 over 200
    images leaves a short last batch, so the sizes must be weighted right)."""
    config = training_config(seed=3)
    config["optimizer"]["weight_decay"] = 1e-3
    data = tiny_problem()
    seed_everything(1)
    model = build_model(config["model"], (1, 28, 28), 3).to(memory_format=torch.channels_last)
    twin = build_model(config["model"], (1, 28, 28), 3).to(memory_format=torch.channels_last)
    twin.load_state_dict(model.state_dict())
    history = train(model, data, data, config["optimizer"], config["train"], progress=False).history
    expected = reference_epochs(twin, data, config)
    assert [(row["train_loss"], row["train_acc"]) for row in history] == expected
    assert len({row["train_loss"] for row in history}) == 3  # three different epochs, not one repeated
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert torch.equal(p, q), name


def test_diverging_run_stops_and_is_marked():
    config = validate({"study": "t", "train": {"batch_size": 32, "epochs": 5}, "optimizer": {"lr": 1e6, "momentum": 0.9}})
    seed_everything(0)
    model = build_model(config["model"], (1, 28, 28), 3)
    result = train(model, tiny_problem(), tiny_problem(), config["optimizer"], config["train"], progress=False)
    assert result.status == "diverged"
    assert len(result.history) < 5
    assert not math.isfinite(result.history[-1]["train_loss"])


def test_gpu_count_reads_the_driver_and_cuda_visible_devices(tmp_path, monkeypatch):
    from gridscape.gpus import visible_gpu_count

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert visible_gpu_count(tmp_path / "missing") == 0
    for bus in ("0000:01:00.0", "0000:02:00.0", "0000:03:00.0"):
        (tmp_path / bus).mkdir()
    assert visible_gpu_count(tmp_path) == 3
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert visible_gpu_count(tmp_path) == 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpu_count(tmp_path) == 0


def test_seed_everything_keeps_float32_convolutions_out_of_tf32():
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    seed_everything(0)
    assert torch.backends.cudnn.allow_tf32 is False and torch.backends.cuda.matmul.allow_tf32 is False
    assert torch.are_deterministic_algorithms_enabled()
