"""The package stage's pieces: ``render`` (score.py and swagger, pure), ``conda`` (merging the
model's environment with the inference base, pure), ``writer`` (the package folder) and
``contract`` (serving the package on 127.0.0.1 and comparing it with in-process predictions)."""
