"""The book's architectures: parameter counts and per-layer output shapes."""

from __future__ import annotations

import pytest

from convnets import model_names, models


def layer_table(model):
    return [(layer.__class__.__name__, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]


def test_convnet_matches_listing_8_1():
    model = models.build_convnet()
    assert layer_table(model) == [
        ("InputLayer", (28, 28, 1), 0),
        ("Conv2D", (26, 26, 32), 320),
        ("MaxPooling2D", (13, 13, 32), 0),
        ("Conv2D", (11, 11, 64), 18496),
        ("MaxPooling2D", (5, 5, 64), 0),
        ("Conv2D", (3, 3, 128), 73856),
        ("Flatten", (1152,), 0),
        ("Dense", (10,), 11530),
    ]
    assert model.count_params() == 104202


def test_convnet_without_max_pooling_matches_listing_8_5():
    model = models.build_convnet_no_max_pool()
    assert layer_table(model) == [
        ("InputLayer", (28, 28, 1), 0),
        ("Conv2D", (26, 26, 32), 320),
        ("Conv2D", (24, 24, 64), 18496),
        ("Conv2D", (22, 22, 128), 73856),
        ("Flatten", (61952,), 0),
        ("Dense", (10,), 619530),
    ]
    assert model.count_params() == 712202


def test_dense_baseline_matches_chapter_2():
    model = models.build_dense()
    assert layer_table(model) == [
        ("InputLayer", (28, 28, 1), 0),
        ("Flatten", (784,), 0),
        ("Dense", (512,), 401920),
        ("Dense", (10,), 5130),
    ]
    assert model.count_params() == 407050


@pytest.mark.parametrize("pooling, twin", [("max", models.build_convnet), ("none", models.build_convnet_no_max_pool)])
def test_pooling_variants_rebuild_the_book_models(pooling, twin):
    assert layer_table(models.build_pooling_variant(pooling)) == layer_table(twin())


def test_strided_and_average_variants_downsample_like_pooling():
    average = models.build_pooling_variant("average")
    strided = models.build_pooling_variant("strided")
    assert average.count_params() == 104202
    assert tuple(average.layers[-2].output.shape[1:]) == (1152,)
    assert [tuple(layer.output.shape[1:]) for layer in strided.layers if layer.__class__.__name__ == "Conv2D"] == [
        (13, 13, 32), (6, 6, 64), (4, 4, 128)]


def test_every_named_model_can_be_built_by_run_training():
    assert tuple(models.MODELS) == model_names.MODEL_NAMES
    for pooling in model_names.POOLINGS:
        assert layer_table(models.MODELS[model_names.pooling_model(pooling)]()) == layer_table(
            models.build_pooling_variant(pooling))


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling must be one of"):
        models.build_pooling_variant("median")


def test_canvas_models_are_the_book_models_on_a_larger_input():
    dense, convnet = models.CANVAS_MODELS["dense"](40), models.CANVAS_MODELS["convnet"](40)
    assert [row[0] for row in layer_table(dense)] == [row[0] for row in layer_table(models.build_dense())]
    assert [row[0] for row in layer_table(convnet)] == [row[0] for row in layer_table(models.build_convnet())]
    assert layer_table(convnet)[-3:] == [("Conv2D", (6, 6, 128), 73856), ("Flatten", (4608,), 0),
                                         ("Dense", (10,), 46090)]
    assert dense.count_params() == (40 * 40 + 1) * 512 + 5130
    assert layer_table(models.CANVAS_MODELS["dense"](28)) == layer_table(models.build_dense())
    assert layer_table(models.CANVAS_MODELS["convnet"](28)) == layer_table(models.build_convnet())


def test_global_pooling_convnet_averages_each_channel_into_a_small_dense_layer():
    assert layer_table(models.build_global_pooling_convnet(40))[-2:] == [
        ("GlobalAveragePooling2D", (128,), 0), ("Dense", (10,), 1290)]
    assert models.build_global_pooling_convnet(28).count_params() == 104202 - 11530 + 1290


def test_every_model_of_the_translation_experiment_can_be_built():
    assert tuple(models.CANVAS_MODELS) == model_names.SHIFT_MODELS
