"""Run artifacts: what an AutoML child run leaves in the workspace's artifact store.

A run's artifacts live in the `workspaceartifactstore` datastore under
`ExperimentRun/dcid.<run id>/` (the SDK's own default for job outputs:
`_job_operations.py`, `download`). A completed tabular AutoML child holds
`outputs/mlflow-model/` (MLmodel, conda.yaml, python_env.yaml, requirements.txt,
model.pkl), `outputs/model.pkl`, `outputs/conda_env_v_1_0_0.yml` and
`outputs/scoring_file_v_2_0_0.py`; the parent holds no model (azure-ml-wire.md: the best
model is in the best CHILD run). Failed and canceled trials leave no model.

The default model files are small placeholders (a real MLmodel with a signature, a
placeholder pickle). `fake.artifacts.use_model_dir(path)` serves a real MLflow model
folder instead, so a package stage that loads the model can run end to end.
"""
from __future__ import annotations

from pathlib import Path

ARTIFACT_DATASTORE = "workspaceartifactstore"
ARTIFACT_CONTAINER = "azureml"
MLMODEL = """artifact_path: outputs/mlflow-model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.10.14
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.1
mlflow_version: 2.16.0
model_uuid: 00000000000000000000000000000000
run_id: {run_id}
signature:
  inputs: '[{{"type": "double", "name": "amount", "required": true}}, {{"type": "long",
    "name": "age", "required": true}}]'
  outputs: '[{{"type": "long", "required": true}}]'
  params: null
"""
CONDA = """channels:
- conda-forge
dependencies:
- python=3.10.14
- pip<=24.0
- pip:
  - mlflow==2.16.0
  - scikit-learn==1.5.1
  - azureml-inference-server-http
name: project_environment
"""


class Artifacts:
    def __init__(self, fake) -> None:
        self.fake = fake
        self.model_dir: Path | None = None

    def use_model_dir(self, path: str | Path) -> None:
        """Serve the files of a real MLflow model folder as every child's mlflow-model."""
        self.model_dir = Path(path)

    def prefix(self, run_id: str) -> str:
        return f"ExperimentRun/dcid.{run_id}/"

    def files(self, run_id: str) -> dict[str, bytes]:
        """The artifacts of a completed child run, by path relative to its run folder."""
        model: dict[str, bytes] = {}
        if self.model_dir is not None:
            for file in sorted(self.model_dir.rglob("*")):
                if file.is_file():
                    model[file.relative_to(self.model_dir).as_posix()] = file.read_bytes()
        else:
            model = {"MLmodel": MLMODEL.format(run_id=run_id).encode(),
                     "conda.yaml": CONDA.encode(),
                     "python_env.yaml": b"python: 3.10.14\nbuild_dependencies:\n- pip\n"
                                        b"dependencies:\n- -r requirements.txt\n",
                     "requirements.txt": b"mlflow==2.16.0\nscikit-learn==1.5.1\n",
                     "model.pkl": b"fake-model-" + run_id.encode()}
        files = {f"outputs/mlflow-model/{k}": v for k, v in model.items()}
        files["outputs/model.pkl"] = model.get("model.pkl", b"")
        files["outputs/conda_env_v_1_0_0.yml"] = model.get("conda.yaml", CONDA.encode())
        files["outputs/scoring_file_v_2_0_0.py"] = b"def init():\n    pass\n\n\ndef run(data):\n" \
                                                  b"    return data\n"
        return files

    def store(self, run_id: str) -> None:
        """Write a completed child's artifacts into the artifact store (idempotent)."""
        blobs = self.fake.blob.blobs
        for rel, data in self.files(run_id).items():
            blobs.setdefault(f"{ARTIFACT_CONTAINER}/{self.prefix(run_id)}{rel}", data)

    def has(self, run_id: str, path: str) -> bool:
        """Whether `path` (a file or folder under the run) exists in the artifact store."""
        key = f"{ARTIFACT_CONTAINER}/{self.prefix(run_id)}{path.strip('/')}"
        return any(b == key or b.startswith(key + "/") for b in self.fake.blob.blobs)

    def datastore_uri(self, run_id: str, path: str) -> str:
        """The long-form datastore URI of a run's artifact folder (what models point at)."""
        c = self.fake.config
        return (f"azureml://subscriptions/{c.subscription_id}/resourcegroups/"
                f"{c.resource_group}/workspaces/{c.workspace}/datastores/{ARTIFACT_DATASTORE}"
                f"/paths/{self.prefix(run_id)}{path.strip('/')}/")
