"""What outlives a process: the explorer's database (a SQLite file in the data directory, or PostgreSQL
when ``EXPLORER_DATABASE_URL`` is set) and its tables, through SQLAlchemy Core.

``database`` opens it (and falls back to memory when it cannot be used), ``engines`` builds the
SQLAlchemy engine for a file or URL and tells a storage fault or an outage from a bad statement, ``urls`` reads and
checks ``EXPLORER_DATABASE_URL``, ``copy`` copies one database's rows into another,
``tables`` declares every table, ``measurements`` keeps latency results as records keyed by
machine and versions (the caller injects how a record is decoded), ``peaks`` the GEMM peak
per machine and thread count, ``calibrations`` the latency predictor's calibrations,
``device_results`` what visitors' browsers measured (per class key), ``kernel_profiles`` Table 8's
kernel profiles. The store
imports nothing but ``shufflenet`` and the shared modules: callers convert their records.
"""

from .calibrations import (
    CalibrationKey,
    calibration_record,
    calibration_rows,
    clear_calibrations,
    put_calibration,
)
from .database import DATA_DIR_ENV, FILE_NAME, MEMORY, Database, data_dir, database_path, open_database, shared_database
from .device_results import (
    CLASS_KEY_ALLOWED,
    DEFAULT_CLASS,
    ClassRow,
    ClassView,
    ClassViewStore,
    SqliteClassView,
    check_class_key,
    open_class_view,
)
from .kernel_profiles import KernelProfileTable
from .measurements import MeasurementRow, MeasurementTable, Place, age_text, input_text, model_text
from .peaks import peak_record, put_peak_record
from .tables import DEVICE_RESULT_ROWS, KERNEL_PROFILE_ROWS, MEASUREMENT_ROWS
from .urls import DATABASE_URL_ENV, configured_url
