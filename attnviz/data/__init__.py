"""Data: frame preprocessing, datasets over videos / frame folders / cached features, and the
synthetic action generator (``attnviz.data.synthetic``)."""

from attnviz.data.transforms import preprocess

__all__ = ["preprocess"]
