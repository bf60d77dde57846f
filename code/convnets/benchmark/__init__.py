"""The benchmark of code/bench.py: how fast the convnet trains, timed from inside `fit`.

It depends on the rest of the package (it trains through convnets.runner); nothing outside it imports it.
"""
