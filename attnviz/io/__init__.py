"""All file reading and writing: videos, annotations, predictions, maps, checkpoints' files.

Submodules are imported on demand (``attnviz.io.thumos``, ``attnviz.io.video``, ...) so that
``import attnviz.io`` stays cheap.
"""
