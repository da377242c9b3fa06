//! System tests live under `tests/tests/`.
