"""Schema-level validation of the files under examples/.

Nothing here can run a workflow, a container or a cluster; instead each file is
parsed and held to the schema and settings its README promises.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import inspect
import json
import re
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GITHUB_WORKFLOW = EXAMPLES / "github-actions" / "pci-audit.yml"
GITLAB_CI = EXAMPLES / "gitlab-ci" / ".gitlab-ci.yml"
DOCKERFILE = EXAMPLES / "in-cluster" / "Dockerfile"
CRONJOB = EXAMPLES / "in-cluster" / "cronjob.yaml"
WAIVERS = EXAMPLES / "waivers.yaml"
DEPLOY_RBAC = ROOT / "deploy" / "auditor-rbac.yaml"
CATALOGUE = ROOT / "kubepci" / "catalogue" / "section1.yaml"

# --------------------------------------------------------------------------- helpers


class _Response:
    """What ApiClient.deserialize expects of an HTTP response."""

    def __init__(self, obj: Any) -> None:
        self.data = json.dumps(obj)


def model_name(doc: dict) -> str:
    version = doc["apiVersion"].split("/")[-1]
    return version[:1].upper() + version[1:] + doc["kind"]


def unknown_fields(value: Any, type_name: str, path: str = "") -> list[str]:
    """Paths in `value` that the kubernetes client model `type_name` does not define."""
    if value is None:
        return []
    # Type strings: "list[X]"/"dict(str, X)" (client <= 35), "List[X]"/"Dict[str, X]" (pydantic).
    if type_name.lower().startswith("list["):
        inner = type_name[5:-1]
        return [p for i, v in enumerate(value) for p in unknown_fields(v, inner, f"{path}[{i}]")]
    if type_name.lower().startswith(("dict(", "dict[")):
        inner = type_name[5:-1].split(", ", 1)[1]
        return [p for k, v in value.items() for p in unknown_fields(v, inner, f"{path}.{k}")]
    model = getattr(kubernetes.client, type_name, None)
    if model is None:  # primitives, object, datetime
        return []
    if not isinstance(value, dict):
        return [f"{path} (expected a {type_name} mapping)"]
    by_key = {key: attr for attr, key in model.attribute_map.items()}
    found = []
    for key, sub in value.items():
        if key not in by_key:
            found.append(f"{path}.{key}")
        else:
            found += unknown_fields(sub, model.openapi_types[by_key[key]], f"{path}.{key}")
    return found


def validate_k8s(doc: dict) -> Any:
    """Deserialize into the client model; fail on any field the model does not know."""
    name = model_name(doc)
    assert hasattr(kubernetes.client, name), f"no kubernetes client model {name}"
    assert unknown_fields(doc, name) == [], f"{name}: unknown fields"
    api = kubernetes.client.ApiClient()
    if next(iter(inspect.signature(api.deserialize).parameters)) == "response":
        return api.deserialize(_Response(doc), name)  # classic client: a response object
    return api.deserialize(json.dumps(doc), name, "application/json")  # pydantic client


_CRON_BOUNDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_CRON_PART = re.compile(r"^(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")


def is_valid_cron(expr: str) -> bool:
    fields = expr.split()
    if len(fields) != 5:
        return False
    for field, (lo, hi) in zip(fields, _CRON_BOUNDS, strict=True):
        for part in field.split(","):
            m = _CRON_PART.match(part)
            if not m or (m[4] is not None and int(m[4]) == 0):
                return False
            if m[2] is not None:
                start = int(m[2])
                end = int(m[3]) if m[3] is not None else start
                if not lo <= start <= end <= hi:
                    return False
    return True


def load_all(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def cronjob_pod(docs: list[dict]) -> dict:
    (cronjob,) = by_kind(docs, "CronJob")
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def manifests() -> list[dict]:
    return load_all(CRONJOB)


# --------------------------------------------------------------------------- self-tests


def test_unknown_field_detection_catches_typos():
    good = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "x"},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
            },
        },
    }
    assert unknown_fields(good, "V1CronJob") == []
    bad = json.loads(json.dumps(good))
    container = bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"] = {"runAsNonRot": True}
    assert unknown_fields(bad, "V1CronJob") == [
        ".spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsNonRot"
    ]


@pytest.mark.parametrize(
    ("expr", "valid"),
    [
        ("17 2 * * *", True),
        ("*/15 0-6 1,15 * 1-5", True),
        ("0 2 * *", False),
        ("60 2 * * *", False),
        ("0 24 * * *", False),
        ("*/0 * * * *", False),
        ("@daily", False),
    ],
)
def test_cron_validator(expr, valid):
    assert is_valid_cron(expr) is valid


# --------------------------------------------------------------------------- in-cluster


def test_manifest_kinds(manifests):
    kinds = sorted(d["kind"] for d in manifests)
    assert kinds == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRoleBinding",
            "ClusterRoleBinding",
            "PersistentVolumeClaim",
            "CronJob",
        ]
    )


@pytest.mark.parametrize("index", range(6))
def test_manifest_document_matches_client_model(manifests, index):
    doc = manifests[index]
    obj = validate_k8s(doc)
    assert type(obj).__name__ == model_name(doc)
    assert obj.metadata.name == doc["metadata"]["name"]


def test_namespaced_objects_live_in_kubepci(manifests):
    for doc in manifests:
        if doc["kind"] not in ("Namespace", "ClusterRoleBinding"):
            assert doc["metadata"]["namespace"] == "kubepci", doc["kind"]


def test_cronjob_schedule_and_job_policy(manifests):
    cronjob = validate_k8s(by_kind(manifests, "CronJob")[0])
    assert is_valid_cron(cronjob.spec.schedule)
    assert cronjob.spec.concurrency_policy == "Forbid"
    assert cronjob.spec.job_template.spec.backoff_limit == 0
    pod = cronjob.spec.job_template.spec.template.spec
    assert pod.restart_policy == "Never"
    assert pod.service_account_name == "kubepci-auditor"


def test_cronjob_security_context(manifests):
    pod = validate_k8s(by_kind(manifests, "CronJob")[0]).spec.job_template.spec.template.spec
    assert pod.security_context.run_as_non_root is True
    assert pod.security_context.seccomp_profile.type == "RuntimeDefault"
    assert pod.host_network is not True and pod.host_pid is not True
    assert pod.containers and not pod.init_containers
    for c in pod.containers:
        sc = c.security_context
        assert sc.read_only_root_filesystem is True, c.name
        assert sc.allow_privilege_escalation is False, c.name
        assert sc.capabilities.drop == ["ALL"], c.name
        assert not sc.capabilities.add, c.name
        assert sc.privileged is not True, c.name
        assert sc.run_as_non_root in (None, True), c.name
        assert sc.seccomp_profile is None or sc.seccomp_profile.type == "RuntimeDefault"


def test_cronjob_resources(manifests):
    for c in cronjob_pod(manifests)["containers"]:
        res = c["resources"]
        assert {"cpu", "memory"} <= res["requests"].keys(), c["name"]
        assert {"cpu", "memory"} <= res["limits"].keys(), c["name"]


def test_cronjob_uses_short_lived_projected_token(manifests):
    pod = cronjob_pod(manifests)
    assert pod["automountServiceAccountToken"] is False
    (sa,) = by_kind(manifests, "ServiceAccount")
    assert sa["metadata"]["name"] == pod["serviceAccountName"]
    tokens = [
        (vol["name"], src["serviceAccountToken"])
        for vol in pod["volumes"]
        for src in vol.get("projected", {}).get("sources", [])
        if "serviceAccountToken" in src
    ]
    assert len(tokens) == 1
    volume, token = tokens[0]
    # The API server's minimum is 600s; an hour is the intended cap.
    assert 600 <= token["expirationSeconds"] <= 3600
    assert "audience" not in token  # the API server's own audience
    mounts = {m["name"]: m for c in pod["containers"] for m in c["volumeMounts"]}
    # The in-cluster client reads token, ca.crt and namespace from this path.
    assert mounts[volume]["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"
    assert mounts[volume].get("readOnly") is True


def test_cronjob_reports_go_to_writable_volume(manifests):
    pod = cronjob_pod(manifests)
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    outputs = [
        a.split("=", 1)[1]
        for a in container["args"]
        if a.split("=", 1)[0] in ("--evidence-dir", "--html", "--junitxml")
    ]
    assert len(outputs) == 3
    for out in outputs:
        mount = next((p for p in mounts if out.startswith(p.rstrip("/") + "/")), None)
        assert mount is not None, f"{out} is not on a mounted volume"
        vol = volumes[mounts[mount]]
        assert "emptyDir" in vol or vol.get("persistentVolumeClaim", {}).get("claimName") == (
            "kubepci-evidence"
        )
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in pod["volumes"]
        if "persistentVolumeClaim" in v
    ]
    for claim in claims:
        assert claim in {d["metadata"]["name"] for d in by_kind(manifests, "PersistentVolumeClaim")}
    # $(VAR) references in args must name a declared env var.
    env = {e["name"] for e in container.get("env", [])}
    for ref in re.findall(r"\$\((\w+)\)", " ".join(container["args"])):
        assert ref in env


def test_bindings_bind_deploy_clusterroles_to_the_job_sa(manifests):
    deploy = load_all(DEPLOY_RBAC)
    deploy_roles = {d["metadata"]["name"] for d in by_kind(deploy, "ClusterRole")}
    assert {"kubepci-auditor", "kubepci-auditor-kubelet-config"} <= deploy_roles
    deploy_bindings = {d["metadata"]["name"] for d in by_kind(deploy, "ClusterRoleBinding")}
    (sa,) = by_kind(manifests, "ServiceAccount")
    bound = set()
    for binding in by_kind(manifests, "ClusterRoleBinding"):
        assert binding["metadata"]["name"] not in deploy_bindings, "would overwrite deploy/"
        assert binding["roleRef"]["kind"] == "ClusterRole"
        assert binding["roleRef"]["name"] in deploy_roles
        assert binding["subjects"] == [
            {
                "kind": "ServiceAccount",
                "name": sa["metadata"]["name"],
                "namespace": sa["metadata"]["namespace"],
            }
        ]
        bound.add(binding["roleRef"]["name"])
    assert bound == deploy_roles


def test_dockerfile():
    lines = [
        ln.strip()
        for ln in re.sub(r"\\\n", " ", DOCKERFILE.read_text()).splitlines()
        if ln.strip() and not ln.strip().startswith("#")
    ]
    instructions = [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert any(op == "RUN" and "pip install" in arg for op, arg in instructions)
    users = [arg for op, arg in instructions if op == "USER"]
    assert users, "no USER"
    uid = users[-1].split(":")[0]
    # runAsNonRoot can only be verified by the kubelet for a numeric UID.
    assert uid.isdigit() and int(uid) != 0
    # USER must come after the last RUN, so nothing later runs as root.
    last_user = max(i for i, (op, _) in enumerate(instructions) if op == "USER")
    last_run = max(i for i, (op, _) in enumerate(instructions) if op == "RUN")
    assert last_user > last_run
    entrypoints = [arg for op, arg in instructions if op == "ENTRYPOINT"]
    assert entrypoints and json.loads(entrypoints[-1]) == ["kubepci"]
    # The CronJob runs as the image's user.
    pod = cronjob_pod(load_all(CRONJOB))
    assert str(pod["securityContext"]["runAsUser"]) == uid


# --------------------------------------------------------------------------- CI


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(GITHUB_WORKFLOW.read_text())


def _on(workflow: dict) -> dict:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    return workflow.get("on", workflow.get(True))


def test_github_triggers(workflow):
    on = _on(workflow)
    assert is_valid_cron(on["schedule"][0]["cron"])
    assert "workflow_dispatch" in on


def test_github_jobs(workflow):
    assert workflow["jobs"]
    for name, job in workflow["jobs"].items():
        assert job.get("runs-on"), name
        assert job.get("steps"), name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step


def test_github_audit_job(workflow):
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    assert job["strategy"]["fail-fast"] is False
    assert job["strategy"]["matrix"]
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert str(setup["with"]["python-version"]) == "3.11"
    runs = [s for s in steps if "run" in s]
    assert any("pip install" in s["run"] and "kubepci" in s["run"] for s in runs)

    # Secrets reach scripts only through env, never interpolated into a script.
    assert not any("secrets" in s["run"] for s in runs)
    (write,) = [s for s in runs if any("secrets" in v for v in s.get("env", {}).values())]
    assert "umask 077" in write["run"]
    (secret_var,) = write["env"]
    uses = [ln for ln in write["run"].splitlines() if f"${secret_var}" in ln]
    assert not [ln for ln in uses if re.search(r"\b(echo|cat|tee)\b|set -x", ln)]
    assert [ln for ln in uses if re.search(r"printf .*> *\"\$RUNNER_TEMP/", ln)]

    audit = next(s for s in runs if re.search(r"^\s*kubepci ", s["run"], re.M))
    for opt in ("--html=", "--self-contained-html", "--junitxml=", "--evidence-dir"):
        assert opt in audit["run"], opt
    assert "|| rc=$?" in audit["run"], "a failing suite must not skip the upload"

    upload_i = next(
        i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/upload-artifact@")
    )
    assert steps[upload_i]["if"] == "always()"
    audit_i = steps.index(audit)
    assert audit_i < upload_i
    fail = [s for s in steps[upload_i + 1 :] if "exit" in s.get("run", "")]
    assert fail and "steps.audit.outputs.rc" in str(fail[-1]["env"])


@pytest.fixture(scope="module")
def gitlab() -> dict:
    return yaml.safe_load(GITLAB_CI.read_text())


def test_gitlab_job(gitlab):
    jobs = {k: v for k, v in gitlab.items() if isinstance(v, dict) and "script" in v}
    assert list(jobs) == ["pci-audit"]
    job = jobs["pci-audit"]
    assert job["stage"] in gitlab["stages"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert job["image"].startswith("python:3.11")
    script = "\n".join(job["script"])
    assert "umask 077" in script
    assert re.search(r"^kubepci ", script, re.M)
    for opt in ("--html=", "--self-contained-html", "--junitxml=", "--evidence-dir"):
        assert opt in script, opt

    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    junit = artifacts["reports"]["junit"]
    assert fnmatch.fnmatch("out/PROD_EU/junit.xml", junit)
    assert "out/" in artifacts["paths"]
    m = re.fullmatch(r"(\d+) days?", artifacts["expire_in"])
    assert m and int(m[1]) >= 365, "PCI DSS 10.5.1: 12 months of audit history"


# --------------------------------------------------------------------------- waivers

_REQUIRED = {"check", "selector", "class", "justification", "approver", "expires"}


def test_waivers_format():
    waivers = yaml.safe_load(WAIVERS.read_text())
    assert isinstance(waivers, list) and waivers
    catalogue = yaml.safe_load(CATALOGUE.read_text())
    check_ids = {c["id"] for c in catalogue["checks"]}
    for w in waivers:
        assert set(w) == _REQUIRED, w
        assert w["check"] in check_ids, w["check"]
        assert w["selector"] and set(w["selector"]) <= {"kind", "namespace", "name"}
        assert all(isinstance(v, str) and v for v in w["selector"].values())
        assert isinstance(w["class"], str) and w["class"].strip()
        assert len(w["justification"].split()) >= 10
        assert isinstance(w["approver"], str) and w["approver"].strip()
        expires = w["expires"]
        if isinstance(expires, str):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", expires)
            expires = dt.date.fromisoformat(expires)
        assert type(expires) is dt.date


def test_waiver_covers_the_in_cluster_auditor(manifests):
    (sa,) = by_kind(manifests, "ServiceAccount")
    waivers = yaml.safe_load(WAIVERS.read_text())
    matching = [
        w
        for w in waivers
        if w["check"] == "service-account-privileges"
        and fnmatch.fnmatchcase("ServiceAccount", w["selector"].get("kind", "*"))
        and fnmatch.fnmatchcase(sa["metadata"]["namespace"], w["selector"].get("namespace", "*"))
        and fnmatch.fnmatchcase(sa["metadata"]["name"], w["selector"].get("name", "*"))
    ]
    # One entry per accepted class: a new, worse finding on the auditor stays open.
    by_class = {w["class"]: w for w in matching}
    assert sorted(by_class) == ["node-proxy", "read-secrets"] and len(matching) == 2
    assert "secret" in by_class["read-secrets"]["justification"].lower()
    assert "nodes/proxy" in by_class["node-proxy"]["justification"]


# --------------------------------------------------------------------------- installing

# A forge's archive of a tag (refs/tags/vX or vX/NAME-vX) or of a full commit SHA.
PINNED_ARCHIVE = re.compile(
    r"^https://\S+/archive/(refs/tags/)?(v\d[\w.]*|[0-9a-f]{40})(/\S+)?\.tar\.gz$"
)


def test_ci_examples_install_a_pinned_repository_archive(workflow, gitlab):
    """kubepci is on no package index: each CI example installs a tag or commit of its
    repository, named once in KUBEPCI_SOURCE (tests/cluster/test_install.py runs the
    install lines in fresh venvs)."""
    (job,) = workflow["jobs"].values()
    sources = {
        "github": job["env"]["KUBEPCI_SOURCE"],
        "gitlab": gitlab["pci-audit"]["variables"]["KUBEPCI_SOURCE"],
    }
    for example, url in sources.items():
        assert PINNED_ARCHIVE.match(url), (example, url)
    (install,) = [s["run"] for s in job["steps"] if s.get("name") == "Install kubepci"]
    assert '"kubepci @ $KUBEPCI_SOURCE"' in install
    assert 'pip install "kubepci @ ${KUBEPCI_SOURCE}"' in gitlab["pci-audit"]["script"]
    for text in (GITHUB_WORKFLOW.read_text(), GITLAB_CI.read_text()):
        assert "kubepci==" not in text  # no index publishes it
