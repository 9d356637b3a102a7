"""The bar of the Azure backend: `azml2aks run PIPELINE --backend azure` from an AutoML job to a
promoted green against the fake (logged in with `az`, as on a CI agent), twice: the first run
creates the endpoint with blue at 100 %, the second rolls green up the ladder and promotes it.
The colours answer with the real MLflow model the fake's child runs hold."""
from __future__ import annotations

import json

from azml2aks.cli import main
from tests.azure.aks_helpers import TLS
from tests.azure.pipelines import azure_example, instant_jobs


def test_run_goes_from_the_automl_job_to_a_promoted_green(fake_azure, kube, az_login, example_model_dir, capsys,
                                                          tmp_path):
    import mlflow.pyfunc
    import pandas as pd

    fake = fake_azure
    fake.aks.add_extension("aks-ml", "azureml", settings=TLS)
    instant_jobs(fake)
    model_dir = example_model_dir("wine-classification")
    fake.artifacts.use_model_dir(model_dir)
    model = mlflow.pyfunc.load_model(str(model_dir))

    def serve(payload):
        data = payload["input_data"]
        return pd.Series(model.predict(pd.DataFrame(data["data"], columns=data["columns"]))).tolist()

    fake.scoring.register("wine-endpoint", "blue", serve)
    fake.scoring.register("wine-endpoint", "green", serve)
    pipeline = str(azure_example(tmp_path, fake, **{"endpoint:\n": "compute:\n  name: aks\n  cluster_name: aks-ml\n"
                                                                   "endpoint:\n",
                                                    "requests: {cpu: \"2\", memory: 4Gi}": "requests: {cpu: \"1\", memory: 1Gi}",
                                                    "limits: {cpu: \"2\", memory: 4Gi}": "limits: {cpu: \"2\", memory: 2Gi}"}))

    code = main(["run", pipeline, "--backend", "azure", "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    first = json.loads(out)
    assert set(first) == {"train", "register", "package", "attach", "deploy", "run_id"}
    assert first["deploy"]["result"] == "created" and first["deploy"]["traffic"] == {"blue": 100}

    code = main(["run", pipeline, "--backend", "azure", "-o", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    second = json.loads(out)
    assert second["deploy"]["result"] == "promoted" and second["deploy"]["colour"] == "green"
    assert [s["verdict"] for s in second["deploy"]["steps"]] == ["pass"] * 5  # smoke, shadow, 10, 50, 100
    assert {k: v for k, v in fake.endpoints.traffic("wine-endpoint").items() if v} == {"green": 100}

    code = main(["status", pipeline, "--backend", "azure", "-o", "json"])
    status = json.loads(capsys.readouterr()[0])
    assert code == 0 and status["traffic"] == {"blue": 0, "green": 100}
    assert status["scoring_uri"] == "https://ml.example.com/api/v1/endpoint/wine-endpoint/score"
