"""Shipped model weights (installed as the `vidkp._models` package data)."""
