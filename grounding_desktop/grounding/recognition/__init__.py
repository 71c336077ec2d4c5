"""The second CNN: EfficientNet-Lite0 on ImageNet-1k, its region crops and embeddings, ImageNet's kinds
as evidence for a noun, and its ONNX export."""
