"""Every registered layer against torch: the type it infers and the parameters it
counts are what its module gives and holds on the `meta` device, for example
statements of each layer over several input shapes; what torch refuses when it
runs is a fault before anything is built; and faults name the field at fault.
"""

from __future__ import annotations

import functools
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import spec_lang
from compiler.bind_all import bind_statement
from compiler.layers.base import Fault, Layer
from compiler.registry import layer_classes
from compiler.types import DType, TensorType

# torch notes that `padding=same` with an even kernel copies the input: true, and no concern of these tests
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")

Case = tuple[str, tuple[tuple[int, ...], ...], DType]
IMAGES = ((1, 8, 8), (3, 5, 7), (2, 1, 9))
SEQUENCES = ((1, 12), (4, 5), (2, 1))
ANY_RANK = ((6,), (3, 5), (2, 4, 6), (2, 3, 4, 5))

# statement -> the input sizes it is tried on; every registered layer has at least one
EXAMPLES: dict[str, list[Case]] = {
    "linear": [("linear ->3", ANY_RANK, "float32"), ("linear 6->2 nobias", ((6,), (4, 6)), "float32")],
    "relu": [("relu", ANY_RANK, "float32")],
    "sigmoid": [("sigmoid", ANY_RANK, "float32")],
    "tanh": [("tanh", ANY_RANK, "float32")],
    "gelu": [("gelu", ANY_RANK, "float32"), ("gelu approximate=tanh", ((4,),), "float32")],
    "leaky_relu": [("leaky_relu slope=0.2", ANY_RANK, "float32")],
    "softmax": [("softmax", ANY_RANK, "float32")],
    "dropout": [("dropout p=0.1", ANY_RANK, "float32")],
    "conv2d": [("conv2d ->4 kernel=3 padding=1", IMAGES, "float32"),
               ("conv2d ->6 kernel=1x3 stride=2 nobias", IMAGES, "float32"),
               ("conv2d ->4 kernel=3 padding=same dilation=2", IMAGES, "float32"),
               ("conv2d 4->6 kernel=2 groups=2 padding=1x0", ((4, 3, 3), (4, 2, 9)), "float32")],
    "conv1d": [("conv1d ->8 kernel=1", SEQUENCES, "float32"),
               ("conv1d ->3 kernel=4 padding=same", SEQUENCES, "float32"),
               ("conv1d 4->4 kernel=2 stride=3 dilation=2 groups=4 padding=1", ((4, 3), (4, 10)), "float32")],
    "max_pool2d": [("max_pool2d 2", ((1, 8, 8), (3, 5, 7), (2, 2, 3)), "float32"),
                   ("max_pool2d 3x1 stride=1 padding=1x0", IMAGES, "float32")],
    "avg_pool2d": [("avg_pool2d 2", ((1, 8, 8), (3, 5, 7)), "float32"),
                   ("avg_pool2d 2 stride=1 padding=1", IMAGES, "float32")],
    "max_pool1d": [("max_pool1d 2", ((1, 12), (4, 5), (2, 2)), "float32"),
                   ("max_pool1d 3 stride=2 padding=1", SEQUENCES, "float32")],
    "avg_pool1d": [("avg_pool1d 3", ((1, 12), (4, 5)), "float32"),
                   ("avg_pool1d 4 stride=1 padding=2", SEQUENCES, "float32")],
    "global_avg_pool": [("global_avg_pool", ((3, 5), (2, 4, 6), (2, 3, 4, 5)), "float32")],
    "flatten": [("flatten", ANY_RANK, "float32")],
    "batch_norm": [("batch_norm", ANY_RANK, "float32"), ("batch_norm eps=1e-3 momentum=0.5", ((5,),), "float32")],
    "layer_norm": [("layer_norm", ANY_RANK, "float32"), ("layer_norm eps=1e-6", ((3, 5),), "float32")],
    "embedding": [("embedding 50->8", ((7,), (3, 4), (1,)), "int64")],
    "lstm": [("lstm ->5", SEQUENCES, "float32"), ("lstm 4->3 sequence layers=2", ((1, 4), (6, 4)), "float32")],
    "gru": [("gru ->5", SEQUENCES, "float32"), ("gru 4->3 sequence layers=3", ((1, 4), (6, 4)), "float32")],
}


@functools.cache
def layer_of(text: str) -> Layer:
    bound = bind_statement(spec_lang.parse(text).statements[0])
    assert not isinstance(bound, list), [d.message for d in bound]
    assert isinstance(bound.model, Layer)
    return bound.model


def test_every_registered_layer_has_example_statements() -> None:
    registered = {cls.keyword for cls in layer_classes()}
    assert registered - set(EXAMPLES) == set(), "add example statements for these layers"
    assert set(EXAMPLES) - registered == set(), "these examples are of no registered layer"
    for keyword, cases in EXAMPLES.items():
        assert all(text.split()[0] == keyword for text, _, _ in cases)


CASES = [(text, sizes, dtype) for cases in EXAMPLES.values() for text, shapes, dtype in cases for sizes in shapes]


@pytest.mark.parametrize(("text", "sizes", "dtype"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_inferred_type_and_parameters_are_what_torch_gives(text: str, sizes: tuple[int, ...], dtype: DType) -> None:
    t = TensorType.of(*sizes, dtype=dtype)
    layer = layer_of(text).resolve(t)
    inferred = layer.infer(t)
    assert isinstance(inferred, TensorType), inferred
    with torch.device("meta"):
        module = layer.build(t)
    ids = dtype == "int64"
    out = module(torch.empty(2, *sizes, device="meta", dtype=torch.int64 if ids else torch.float32))
    assert (tuple(out.shape[1:]), str(out.dtype).removeprefix("torch.")) == (inferred.sizes, inferred.dtype)
    assert layer.parameter_count(t) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("text", "sizes", "dtype"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_nqas_own_modules_print_as_the_summary_names_them(text: str, sizes: tuple[int, ...], dtype: DType) -> None:
    t = TensorType.of(*sizes, dtype=dtype)
    layer = layer_of(text).resolve(t)
    call = layer.call(t)
    if call.home == "torch.nn":
        assert (call.definition(), call.source().startswith(f"nn.{call.name}(")) == ("", True)
        return
    with torch.device("meta"):
        assert repr(layer.build(t)) == layer.describe(t)
    assert call.source().startswith(f"{call.name}(")
    assert call.definition().startswith(f"class {call.name}(nn.Module):\n")


def test_summary_names_read_as_the_constructor_calls() -> None:
    image, steps = TensorType.of(1, 8, 8), TensorType.of(20, 1)
    named = {"conv2d ->16 kernel=3 padding=1": (image, "Conv2d(1, 16, kernel_size=3, padding=1)"),
             "conv2d 1->8 kernel=3x5 stride=2 padding=same nobias": (
                 image, "Conv2d(1, 8, kernel_size=(3, 5), stride=2, padding='same', bias=False)"),
             "max_pool2d 2": (image, "MaxPool2d(kernel_size=2, stride=2)"),
             "batch_norm": (image, "BatchNorm2d(1)"),
             "lstm ->32": (steps, "LSTM(1, 32)"),
             "gru ->32 sequence layers=2": (steps, "GRU(1, 32, num_layers=2, sequence=True)")}
    assert {text: layer_of(text).resolve(t).describe(t) for text, (t, _) in named.items()} == {
        text: name for text, (_, name) in named.items()}


# --- what torch refuses when it runs is a fault before it is built -------------------

@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny convolutions on several threads spend their time waking the threads (10 ms a call, not 20 us)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _torch_gives(layer: Layer, t: TensorType) -> tuple[int, ...] | None:
    """The per-example output shape torch computes on the CPU, or None where it refuses."""
    try:
        module = layer.build(t)
        return tuple(module(torch.zeros(1, *t.sizes)).shape[1:])
    except (RuntimeError, ValueError):
        return None


def _agrees(text: str, t: TensorType) -> None:
    layer = layer_of(text).resolve(t)
    inferred = layer.infer(t)
    expected = inferred.sizes if isinstance(inferred, TensorType) else None
    assert _torch_gives(layer, t) == expected, (text, str(t), inferred)


def test_conv1d_is_refused_exactly_where_torch_refuses_it() -> None:
    paddings = ("0", "1", "2", "same")
    for length, kernel, stride, padding, dilation, groups in itertools.product(
            range(1, 6), range(1, 5), (1, 2), paddings, (1, 2), (1, 2)):
        _agrees(f"conv1d ->4 kernel={kernel} stride={stride} padding={padding} dilation={dilation} "
                f"groups={groups}", TensorType.of(2, length))
    _agrees("conv1d ->4 kernel=1 groups=3", TensorType.of(3, 4))
    _agrees("conv1d ->4 kernel=1 groups=3", TensorType.of(6, 4))


def test_conv2d_is_refused_exactly_where_torch_refuses_it() -> None:
    for height, width, kernel, padding in itertools.product((1, 2, 3), (1, 4), ("1", "3", "2x3", "3x1"),
                                                            ("0", "1", "0x1", "same")):
        for stride in ("1", "2x1"):
            _agrees(f"conv2d ->2 kernel={kernel} stride={stride} padding={padding}",
                    TensorType.of(1, height, width))


@pytest.mark.parametrize("pool", ["max_pool1d", "avg_pool1d"])
def test_1d_pools_are_refused_exactly_where_torch_refuses_them(pool: str) -> None:
    for length, kernel, stride, padding in itertools.product(range(1, 7), range(1, 5), ("", " stride=1",
                                                                                        " stride=2"), range(3)):
        _agrees(f"{pool} {kernel}{stride} padding={padding}", TensorType.of(2, length))


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_2d_pools_are_refused_exactly_where_torch_refuses_them(pool: str) -> None:
    for height, width, kernel, padding in itertools.product((1, 2, 3), (1, 4), ("1", "2", "3x1", "2x4"),
                                                            ("0", "1", "1x2")):
        _agrees(f"{pool} {kernel} padding={padding}", TensorType.of(1, height, width))


# --- faults name the field at fault, with their own hint -----------------------------

def _fault(text: str, *sizes: int, dtype: DType = "float32") -> Fault:
    t = TensorType.of(*sizes, dtype=dtype)
    found = layer_of(text).resolve(t).infer(t)
    assert isinstance(found, Fault), found
    return found


def test_a_kernel_larger_than_the_input_is_a_fault_on_the_kernel() -> None:
    fault = _fault("conv2d ->8 kernel=5", 16, 3, 3)
    assert (fault.message, fault.field, fault.arriving) == (
        "`{name}` needs at least 5 in height, but {why}", "kernel", "[16, 3, 3]")
    assert fault.hint.startswith("3 arrives in height: use a smaller kernel")
    assert _fault("conv2d ->8 kernel=3x5 padding=1", 1, 8, 2).message == (
        "`{name}` needs at least 3 in width with padding 1, but {why}")
    assert _fault("max_pool1d 4", 2, 3).message == "`{name}` needs at least 4 in length, but {why}"


def test_torchs_rules_on_padding_and_groups_are_faults_on_those_fields() -> None:
    same = _fault("conv2d ->8 kernel=3 stride=2 padding=same", 1, 8, 8)
    groups = _fault("conv2d ->18 kernel=3 groups=4", 6, 9, 9)
    pool = _fault("avg_pool2d 2 padding=2", 1, 8, 8)
    assert [(f.field, f.label) for f in (same, groups, pool)] == [
        ("padding", "needs stride 1"), ("groups", "4 groups"), ("padding", "at most 1")]
    assert groups.message == "`{name}` splits its channels into 4 groups, but {why}: 6 channels do not split into 4"
    assert groups.hint == "the groups must divide both 6 and 18: e.g. `groups=3`"
    assert _fault("conv2d 4->6 kernel=3 groups=4", 4, 9, 9).message.endswith("6 output channels do not split into 4")


def test_stated_channels_that_differ_from_the_input_are_a_fault_on_them() -> None:
    fault = _fault("conv2d 3->8 kernel=3", 1, 28, 28)
    assert (fault.field, fault.message, fault.arriving) == (
        "in_channels", "`{name}` expects 3 input channels, but {why}", "[1, 28, 28]")
    assert fault.hint == "write `conv2d 1->8 kernel=3`, or `conv2d ->8 kernel=3` to take the channels from the input"


def test_a_recurrent_layer_takes_a_sequence_and_says_how_to_shape_one() -> None:
    flat, image = _fault("lstm ->32", 20), _fault("gru ->32", 1, 8, 8)
    assert flat.message == "`{name}` takes a sequence [T, F] (time steps x features), but {why}"
    assert (flat.field, flat.arriving) == ("", "[20]")
    assert flat.hint == "shape the input as steps x features, e.g. `input 20x1` for 20 steps of one value each"
    assert image.hint.startswith("an image [C, H, W] is not a sequence")
    stated = _fault("lstm 3->32", 20, 1)
    assert (stated.field, stated.message, stated.arriving) == (
        "input_size", "`{name}` expects 3 input features, but {why}", "[20, 1]")
    assert stated.hint == "write `lstm 1->32`, or `lstm ->32` to take the features from the input"


def test_ids_and_floats_each_go_where_they_belong() -> None:
    floats = _fault("embedding 50->8", 10)
    ids = _fault("lstm ->32", 10, dtype="int64")  # the dtype is the cause, before the rank
    assert (floats.label, floats.arriving) == ("takes ids", "[10]")
    assert (ids.label, ids.arriving) == ("takes floats", "[10] int64")
    assert _fault("global_avg_pool", 10).label == "takes [C, ...]"


def test_multiply_accumulates_are_counted_by_hand() -> None:
    counts = {("conv2d ->16 kernel=3 padding=1", (1, 8, 8)): 16 * 1 * 3 * 3 * 8 * 8,
              ("conv2d 3->8 kernel=3x5 stride=2", (3, 9, 9)): 8 * 3 * 3 * 5 * (4 * 3),
              ("conv2d 4->8 kernel=3 groups=2 nobias", (4, 6, 6)): 8 * 2 * 3 * 3 * (4 * 4),
              ("conv1d ->2 kernel=3 padding=same", (5, 10)): 2 * 5 * 3 * 10,
              ("linear 2->3", (2,)): 2 * 3,
              ("linear ->3", (5, 2)): 5 * 2 * 3,
              ("lstm ->4", (7, 2)): 7 * 4 * 4 * (2 + 4)}
    for (text, sizes), expected in counts.items():
        t = TensorType.of(*sizes)
        assert layer_of(text).resolve(t).flops(t) == expected, text


def test_the_layers_neither_import_torch_nor_need_it_for_a_summary_or_a_source() -> None:
    code = ("import sys, spec_lang\n"
            "from compiler.bind_all import bind_statement\n"
            "from compiler.types import TensorType\n"
            "t = TensorType.of(20, 1)\n"
            "layer = bind_statement(spec_lang.parse('lstm ->8').statements[0]).model.resolve(t)\n"
            "print(layer.describe(t), layer.call(t).definition().split(':')[0])\n"
            "assert 'torch' not in sys.modules\n")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert (done.returncode, done.stdout) == (0, "LSTM(1, 8) class LSTM(nn.Module)\n"), done.stderr


@pytest.mark.parametrize("sizes", [(5,), (3, 1), (3, 4), (2, 1, 1), (2, 3, 1)])
def test_batch_norm_says_when_training_needs_two_examples_a_batch(sizes: tuple[int, ...]) -> None:
    """torch refuses to normalise a channel that holds one value in a training batch."""
    t = TensorType.of(*sizes)
    layer = layer_of("batch_norm")
    module = layer.build(t).train()
    try:
        module(torch.zeros(1, *sizes))
        alone = True
    except ValueError:
        alone = False
    assert alone == (layer.values_per_channel(t) > 1)  # type: ignore[attr-defined]
