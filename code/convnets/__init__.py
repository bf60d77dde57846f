"""Reusable parts of the convnet tutorial: data, models, training and figures."""
