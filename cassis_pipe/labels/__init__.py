"""Label readers (Bern framelet headers, PDS4), DAT arrays, observation ids and product names."""

from cassis_pipe.labels.arrays import ArrayGeometry, Axis
from cassis_pipe.labels.bern import (
    BernWindowHeader,
    FrameletLabel,
    read_bern_label,
    window_words,
)
from cassis_pipe.labels.dat import dat_path_for, mask_special, read_dat
from cassis_pipe.labels.ids import (
    ObservationId,
    observation_id_string,
    observation_id_to_uid,
    parse_observation_id,
    uid_to_observation_id,
)
from cassis_pipe.labels.pds4 import Cartography, Pds4Label, read_pds4_label
from cassis_pipe.labels.reader import label_to_dict, read_label
from cassis_pipe.labels.xmlsafe import LabelError

__all__ = [
    "ArrayGeometry",
    "BernWindowHeader",
    "Axis",
    "Cartography",
    "FrameletLabel",
    "LabelError",
    "ObservationId",
    "Pds4Label",
    "dat_path_for",
    "label_to_dict",
    "mask_special",
    "observation_id_string",
    "observation_id_to_uid",
    "parse_observation_id",
    "read_bern_label",
    "read_dat",
    "read_label",
    "read_pds4_label",
    "uid_to_observation_id",
    "window_words",
]
