"""Count a model's floating-point operations per image, analytically, from its layers.

Convention: a multiply-add counts as 2 operations, in Conv2D and Dense layers only; biases,
activations, pooling and the softmax are left out (well under 1% of the total for these models).
A training step costs 3 forward passes: the forward pass, then the gradients with respect to the
activations and to the weights, each about as costly as the forward pass.
"""

from __future__ import annotations

# --8<-- [start:count]
import math

import keras

TRAINING_MULTIPLIER = 3


def layer_flops(layer: keras.layers.Layer) -> int:
    """Operations for one image through `layer` (2 per multiply-add; 0 for layers without weights)."""
    if isinstance(layer, keras.layers.Conv2D):
        kernel_h, kernel_w, in_channels, out_channels = layer.kernel.shape
        _, out_h, out_w, _ = layer.output.shape
        return 2 * out_h * out_w * out_channels * kernel_h * kernel_w * in_channels // layer.groups
    if isinstance(layer, keras.layers.Dense):
        in_features, out_features = layer.kernel.shape
        positions = math.prod(layer.output.shape[1:-1])
        return 2 * positions * in_features * out_features
    return 0


def forward_flops(model: keras.Model) -> int:
    """Operations for one image through the whole model, inference only."""
    return sum(layer_flops(layer) for layer in model.layers)


def training_flops(model: keras.Model) -> int:
    """Operations for one image in a training step: forward and backward."""
    return TRAINING_MULTIPLIER * forward_flops(model)
# --8<-- [end:count]


def per_layer(model: keras.Model) -> dict[str, int]:
    """Forward operations per image, layer by layer, for the layers that do arithmetic."""
    return {layer.name: layer_flops(layer) for layer in model.layers if layer_flops(layer)}
