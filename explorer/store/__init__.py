"""What outlives a process: the explorer's SQLite file in the data directory and its tables.

``database`` opens the file (and falls back to memory when it cannot be written),
``tables`` declares every table, ``measurements`` keeps latency results as records keyed by
machine and versions (the caller injects how a record is decoded), ``peaks`` the GEMM peak
per machine and thread count, ``calibrations`` the latency predictor's calibrations,
``device_results`` what visitors' browsers measured. The store
imports nothing but ``shufflenet`` and the shared modules: callers convert their records.
"""

from .calibrations import (
    CalibrationKey,
    calibration_record,
    calibration_rows,
    clear_calibrations,
    put_calibration,
)
from .database import DATA_DIR_ENV, FILE_NAME, MEMORY, Database, data_dir, database_path, open_database
from .device_results import ClassRow, ClassViewStore, SqliteClassView, open_class_view
from .measurements import MeasurementRow, MeasurementTable, Place, age_text, input_text, model_text
from .peaks import peak_record, put_peak_record
from .tables import DEVICE_RESULT_ROWS, MEASUREMENT_ROWS
