"""SegIC in-context segmentation: prompts, feature cache, chunked transfer, pre/post-processing.

Everything here is pure or file-local (the feature cache); the model calls happen in the task
(edge_agent/pipeline/segic_task.py) and the prompt-feature extractor, both on an
`InferenceBackend`, so the same code runs on ONNX Runtime and TensorRT.
"""
