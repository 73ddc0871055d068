"""Stage 1 (read, `precompute.pipeline.STAGES`): readers of labelled glitch data sets, all returning a `Dataset`.

Formats, in the order auto-detection tries them: ``trainingset`` (metadata CSV +
PNG figures), ``trainingset-h5`` (the HDF5 release), ``imagefolder`` (any
labelled image set).
"""

from __future__ import annotations

from .dataset import CANONICAL_COLUMNS, SINGLE_WINDOW, Dataset, ReadIssue, ReadReport
from .imagefolder import identify_imagefolder, read_imagefolder
from .registry import FORMATS, identify_format, read_dataset, register_reader
from .trainingset import identify_trainingset, read_trainingset
from .trainingset_h5 import identify_trainingset_h5, read_trainingset_h5

__all__ = [
    "CANONICAL_COLUMNS",
    "FORMATS",
    "SINGLE_WINDOW",
    "Dataset",
    "ReadIssue",
    "ReadReport",
    "identify_format",
    "read_dataset",
    "register_reader",
]

# metadata CSV + 800x600 PNG figures anywhere below (TrainingSet/, Kaggle, gwpy layouts)
register_reader(
    "trainingset", identify_trainingset, read_trainingset, "a folder with trainingset_v1d1_metadata.csv and PNGs"
)
# trainingsetv1d1.h5: pre-cropped 140x170 grey arrays, metadata from a CSV beside it
register_reader(
    "trainingset-h5", identify_trainingset_h5, read_trainingset_h5, "an .h5 file or a folder with trainingsetv1d1.h5"
)
# <root>/<label>/*.png or a path,label CSV: any other labelled image set, used uncropped
register_reader("imagefolder", identify_imagefolder, read_imagefolder, "<root>/<label>/*.png or a CSV with path,label")
