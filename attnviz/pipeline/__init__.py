"""One function per job, composing io -> models -> localize -> evaluate -> render.

The command line calls these with keyword arguments; they never see argparse state. Each
job lives in its own module (``pipeline.explain``, ``pipeline.thumos``, ``pipeline.ucf24``,
``pipeline.train``, ...), imported on demand.
"""
