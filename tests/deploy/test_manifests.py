"""deploy/ checked offline: cluster launcher YAML by Ray's own config validation, KubeRay manifests
against the KubeRay CRDs' OpenAPI schemas (plus a strict check for typos in keys the schemas would let
through), the SLURM script by bash's parser."""

import copy
import functools
import gzip
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"
CRDS = Path(__file__).with_name("kuberay")  # the KubeRay v1 CRDs (Apache-2.0), vendored: see its README


@pytest.mark.parametrize("name", ["aws.yaml", "gcp.yaml"])
def test_cluster_launcher_configs_pass_rays_validation(name):
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = yaml.safe_load((DEPLOY / "cluster" / name).read_text())
    validate_config(prepare_config(config))
    assert config["head_node_type"] in config["available_node_types"]
    bad = copy.deepcopy(config)
    bad["max_wrokers"] = 3
    with pytest.raises(jsonschema.ValidationError):
        validate_config(prepare_config(bad))


@functools.cache
def _schema(kind: str) -> dict:
    """The CRD's v1 OpenAPI schema, itself checked against its metaschema (once per kind: ~2 s)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 20x faster on the 1 MB CRDs
    crd = yaml.load(gzip.decompress((CRDS / f"ray.io_{kind}s.yaml.gz").read_bytes()), Loader=loader)
    schema = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    jsonschema.validators.validator_for(schema).check_schema(schema)
    return schema


def unknown_keys(obj, schema: dict, path: str = "") -> list[str]:
    """Keys of ``obj`` that ``schema`` does not declare where it declares properties (Kubernetes would
    prune them silently: a typo like `workerGroupSpec` would otherwise pass)."""
    out = []
    if isinstance(obj, dict) and "properties" in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
        for k, v in obj.items():
            if k not in schema["properties"]:
                if not schema.get("additionalProperties"):
                    out.append(f"{path}.{k}")
            else:
                out += unknown_keys(v, schema["properties"][k], f"{path}.{k}")
    elif isinstance(obj, list) and "items" in schema:
        for i, v in enumerate(obj):
            out += unknown_keys(v, schema["items"], f"{path}[{i}]")
    return out


def _check(manifest: dict, schema: dict) -> list[str]:
    jsonschema.validators.validator_for(schema)(schema).validate(manifest)
    return unknown_keys(manifest, schema)


@pytest.mark.parametrize("name,kind", [("raycluster.yaml", "raycluster"), ("rayjob-sweep.yaml", "rayjob")])
def test_kuberay_manifests_validate_against_the_crds(name, kind):
    schema = _schema(kind)
    manifest = yaml.safe_load((DEPLOY / "kuberay" / name).read_text())
    assert manifest["kind"].lower() == kind and manifest["apiVersion"] == "ray.io/v1"
    assert _check(manifest, schema) == []
    spec = manifest["spec"] if kind == "raycluster" else manifest["spec"]["rayClusterSpec"]
    head = spec["headGroupSpec"]
    assert head["rayStartParams"]["dashboard-host"] == "127.0.0.1"
    env = {e["name"]: e for e in head["template"]["spec"]["containers"][0]["env"]}
    assert "secretKeyRef" in env["MLFLOW_TRACKING_URI"]["valueFrom"]  # secrets only from a Secret
    assert any(
        "nvidia.com/gpu" in c["resources"]["limits"]
        for g in spec["workerGroupSpecs"]
        for c in g["template"]["spec"]["containers"]
    )
    if kind == "rayjob":
        assert manifest["spec"]["entrypoint"].startswith("physml sweep ")


def test_the_strict_check_catches_typos_and_the_schema_catches_types():
    schema = _schema("raycluster")
    manifest = yaml.safe_load((DEPLOY / "kuberay" / "raycluster.yaml").read_text())
    typo = copy.deepcopy(manifest)
    typo["spec"]["workerGroupSpec"] = typo["spec"].pop("workerGroupSpecs")
    assert _check(typo, schema) == [".spec.workerGroupSpec"]
    wrong = copy.deepcopy(manifest)
    wrong["spec"]["workerGroupSpecs"][0]["maxReplicas"] = "eight"
    with pytest.raises(jsonschema.ValidationError):
        _check(wrong, schema)


def test_slurm_script_parses_and_never_stops_foreign_ray_processes():
    script = DEPLOY / "slurm" / "physml-ray.sbatch"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "ray stop" not in text.replace("no `ray stop`", "")
    assert "RAY_AUTH_TOKEN_PATH" in text and "--temp-dir" in text


def test_mlflow_server_deployment_has_auth_and_no_inline_secrets():
    compose = yaml.safe_load((DEPLOY / "mlflow" / "docker-compose.yaml").read_text())
    cmd = compose["services"]["mlflow"]["command"]
    assert "--app-name basic-auth" in cmd and "postgresql://" in cmd and "s3://" in cmd
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")
