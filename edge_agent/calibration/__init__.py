"""INT8 calibration: measure activation ranges once on the CPU, prove the accuracy, ship the cache.

Calibrating on each device is slow and not reproducible, and a bad calibration silently ruins
masks and tracks; so ranges are measured here with ONNX Runtime's static quantization tooling on
frames preprocessed by the same functions inference uses, an INT8 (QDQ) model is checked against
FP32 on held-out frames, and only a calibration that passes that gate is installed under
`calibration/` for engine builds to pick up. See docs/calibration.md.
"""
