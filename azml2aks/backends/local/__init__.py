"""The local backend: FLAML AutoML, an MLflow registry in the work dir, the Azure ML inference
server per colour and a weighted router, all on 127.0.0.1. Only this package imports flaml."""
