"""The detector stage: the bundled SSD (torch port, its weights, its ONNX export), the same network in
onnxruntime or OpenCV DNN, the user's ONNX detector, and the registry of backends that chooses one."""
