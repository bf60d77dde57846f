"""Named models trained once and reused: `trained(name, recipe)` fits a model of convnets.models through
`fit_or_load`, so the book's convnet fitted by a page and by `trained` is one entry, trained once."""

from __future__ import annotations

import keras

from convnets import devices, models, recipes, training
from convnets.cached_fit import fit_or_load
from convnets.runner import default_settings, prepared_data, run_record


def trained(model: str = "convnet", recipe: str = "book", **changes) -> tuple[keras.Model, dict]:
    """MODELS[model] fitted as `recipe` says, through `fit_or_load`, and its record as train.py writes it.

    It is compiled as the chapters compile (the loss by its name), so the first chapter's page fitting the
    book's convnet or dense baseline and `trained` share one entry and one training; a miss trains verbosely,
    from the settings' seed. The record's test scores are measured on each call.
    """
    settings = default_settings(model, recipe, **changes)
    plan = recipes.recipe_with(recipe, **settings["overrides"])
    if settings["canvas"] or plan.input_pipeline != "keras":
        raise ValueError("trained() fits the 28×28 models on arrays: train canvases and tf.data pipelines with "
                         "convnets.runner.run_training")
    (x_train, y_train), test_set = prepared_data(settings)
    keras.utils.set_random_seed(settings["seed"])
    if settings["deterministic"]:
        devices.enable_determinism()
    on_gpu = "GPU" in devices.describe_device("auto")
    keras.mixed_precision.set_dtype_policy(training.precision_policy(plan, on_gpu=on_gpu))
    try:
        net = models.MODELS[model]()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    net.compile(optimizer=training.make_optimizer(plan, training.steps_per_epoch(len(x_train), plan.batch_size)),
                loss=training.make_loss(plan) if plan.label_smoothing else "sparse_categorical_crossentropy",
                metrics=["accuracy"], jit_compile=plan.jit_compile, steps_per_execution=plan.steps_per_execution)
    fit = fit_or_load(net, x_train, y_train, epochs=plan.epochs, batch_size=plan.batch_size, verbose=2)
    return net, run_record(settings, fit.device, net, fit.history, fit.seconds, test_set)
