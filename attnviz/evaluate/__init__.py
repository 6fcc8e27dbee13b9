"""Evaluators: THUMOS14 / ActivityNet temporal detection mAP, UCF101-24 frame-mAP and video-mAP,
classification accuracy. They return data and print nothing.

The short way in (files or attnviz records)::

    import attnviz.evaluate as ev

    result = ev.thumos14("annotations_test/", "run.txt")            # Table 6
    result = ev.ucf24("pyannot.pkl", "dets.csv", metric="frame")     # Table 5
    result.mAP                                                       # ndarray[T], in [0, 1]

The steps (``match`` then ``accumulate``) and the per-protocol parameters are in
:mod:`attnviz.evaluate.thumos` and :mod:`attnviz.evaluate.ucf24`.
"""

from attnviz.evaluate.api import boxes_to_detections, segments_to_detections, thumos14, ucf24

__all__ = ["boxes_to_detections", "segments_to_detections", "thumos14", "ucf24"]
