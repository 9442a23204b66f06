"""1.3.2 on CertificateSigningRequests: the kubelet exemption exactly as Kubernetes grants
node certificates, the audit log past csrcleaner's window, and csrcleaner itself."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubepci.access.auditlog import log_files, read_csr_writes
from kubepci.analysis import certificates, csr_history
from kubepci.verdict import Finding
from tests.builders import csr

DATA = Path(__file__).resolve().parents[1] / "data" / "identity"
Obj = dict[str, Any]
KUBELET = certificates.NODE_CLIENT_SIGNER
NODE_GROUPS = ["system:nodes", "system:authenticated"]
KUBELET_USAGES = ["digital signature", "client auth"]


def pem_with_sans(cn: str, orgs: list[str], dns: list[str]) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    name += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(name))
    builder = builder.add_extension(
        x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def request(
    cn: str,
    orgs: list[str] | tuple[str, ...] = (),
    signer: str = certificates.CLIENT_SIGNER,
    approved: bool | None = True,
    username: str = "jane",
    groups: list[str] | None = None,
    usages: list[str] | None = None,
    raw: bytes | None = None,
) -> Obj:
    obj = csr(
        f"csr-{zlib.crc32(repr((cn, username, signer)).encode())}",
        cn,
        orgs,
        signer,
        approved,
        username,
        raw,
    )
    obj["spec"]["groups"] = groups if groups is not None else ["system:authenticated"]
    obj["spec"]["usages"] = usages if usages is not None else ["client auth"]
    return obj


# name: (csr, expected finding classes)
LISTED: dict[str, tuple[Obj, list[str]]] = {
    "a person's approved certificate": (request("jane", ["dev"]), ["client-certificate"]),
    "a person's pending request": (request("jane", approved=None), []),
    "a person's denied request": (request("jane", approved=False), []),
    "system:masters, even pending": (
        request("root", ["system:masters"], approved=None),
        ["system-masters"],
    ),
    "system:masters through an external signer": (
        request("ops", ["system:masters"], signer="example.com/breakglass"),
        ["system-masters"],
    ),
    "external signer asked for client auth": (
        request("bob", signer="example.com/client"),
        ["client-certificate"],
    ),
    "external signer for serving only": (
        request("svc", signer="example.com/serving", usages=["server auth"]),
        [],
    ),
    "kubelet renewing its own certificate": (
        request(
            "system:node:n1",
            ["system:nodes"],
            KUBELET,
            username="system:node:n1",
            groups=NODE_GROUPS,
            usages=KUBELET_USAGES,
        ),
        [],
    ),
    "kubelet with the RSA usages": (
        request(
            "system:node:n1",
            ["system:nodes"],
            KUBELET,
            username="system:node:n1",
            groups=NODE_GROUPS,
            usages=["digital signature", "key encipherment", "client auth"],
        ),
        [],
    ),
    "TLS bootstrap by a bootstrap token": (
        request(
            "system:node:n2",
            ["system:nodes"],
            KUBELET,
            username="system:bootstrap:abcdef",
            groups=[
                "system:bootstrappers",
                "system:bootstrappers:kubeadm:default-node-token",
                "system:authenticated",
            ],
            usages=KUBELET_USAGES,
        ),
        [],
    ),
    "bootstrap through an extra bootstrapper group only": (
        request(
            "system:node:n3",
            ["system:nodes"],
            KUBELET,
            username="system:bootstrap:xyz",
            groups=["system:bootstrappers:workers"],
            usages=KUBELET_USAGES,
        ),
        [],
    ),
    "fake node filed by a person": (
        request(
            "system:node:fake", ["system:nodes"], KUBELET, username="jane", usages=KUBELET_USAGES
        ),
        ["node-client-certificate"],
    ),
    "fake node filed by an admin (auto-approved)": (
        request(
            "system:node:fake",
            ["system:nodes"],
            KUBELET,
            username="kubernetes-super-admin",
            groups=["system:masters", "system:authenticated"],
            usages=KUBELET_USAGES,
        ),
        ["node-client-certificate"],
    ),
    "a node asking for another node": (
        request(
            "system:node:n2",
            ["system:nodes"],
            KUBELET,
            username="system:node:n1",
            groups=NODE_GROUPS,
            usages=KUBELET_USAGES,
        ),
        ["node-client-certificate"],
    ),
    "a node-named user outside system:nodes": (
        request(
            "system:node:n1",
            ["system:nodes"],
            KUBELET,
            username="system:node:n1",
            groups=["system:authenticated"],
            usages=KUBELET_USAGES,
        ),
        ["node-client-certificate"],
    ),
    "node subject through the plain client signer": (
        request(
            "system:node:n1",
            ["system:nodes"],
            username="system:node:n1",
            groups=NODE_GROUPS,
            usages=KUBELET_USAGES,
        ),
        ["client-certificate"],
    ),
    "kubelet signer with server auth usage": (
        request(
            "system:node:n1",
            ["system:nodes"],
            KUBELET,
            username="system:node:n1",
            groups=NODE_GROUPS,
            usages=["digital signature", "client auth", "server auth"],
        ),
        ["node-client-certificate"],
    ),
    "kubelet signer with a DNS name": (
        request(
            "system:node:n1",
            ["system:nodes"],
            KUBELET,
            username="system:node:n1",
            groups=NODE_GROUPS,
            usages=KUBELET_USAGES,
            raw=pem_with_sans("system:node:n1", ["system:nodes"], ["n1.example"]),
        ),
        ["client-certificate"],
    ),
    "unparseable request": (request("x", raw=b"not a CSR"), ["unparseable-request"]),
}


@pytest.mark.parametrize("case", list(LISTED))
def test_listed_findings(case: str) -> None:
    obj, expected = LISTED[case]
    findings, seen = certificates.listed_findings([obj])
    assert [f.finding_class for f in findings] == expected
    if certificates.is_client_request(obj["spec"]):
        assert seen and seen[0]["name"] == obj["metadata"]["name"]


def test_fake_node_finding_says_who_filed_it() -> None:
    obj, _ = LISTED["fake node filed by a person"]
    (finding,) = certificates.listed_findings([obj])[0]
    assert finding.detail == (
        "approved node client certificate for CN=system:node:fake O=system:nodes: requested "
        "by jane, neither node fake itself nor a bootstrap identity; it authenticates as that "
        "node to whoever holds the key"
    )


def test_exemption_reasons() -> None:
    obj, _ = LISTED["kubelet renewing its own certificate"]
    identity = certificates.requested_identity(obj)
    assert identity is not None
    assert certificates.exemption(obj, identity) == (
        "kubelet client certificate system:node:n1, requested by node n1 itself"
    )
    boot, _ = LISTED["TLS bootstrap by a bootstrap token"]
    assert certificates.exemption(boot, certificates.requested_identity(boot)).endswith(
        "requested by bootstrap identity system:bootstrap:abcdef"
    )


def test_recorded_kubelet_csr_is_exempt() -> None:
    listed = json.loads((DATA / "compliant" / "csrs.json").read_text())
    findings, seen = certificates.listed_findings(listed)
    assert findings == []
    assert [row["exempt"] for row in seen] == [
        "kubelet client certificate system:node:vm, requested by node vm itself"
    ]


@pytest.mark.parametrize(
    ("controllers", "enabled"),
    [
        ("", True),
        ("*", True),
        ("*,bootstrapsigner,tokencleaner", True),
        ("*,-csrcleaner", False),
        ("*,-certificatesigningrequest-cleaner-controller", False),
        ("csrcleaner", True),
        ("certificatesigningrequest-cleaner-controller", True),
        ("csrsigning,csrapproving", False),
        ("-csrcleaner,*", False),
    ],
)
def test_cleaner_enabled(controllers: str, enabled: bool) -> None:
    assert certificates.cleaner_enabled(controllers) is enabled


def test_retention_matches_the_cleaner() -> None:
    assert certificates.APPROVED_RETENTION_SECONDS == certificates.CLEANER_POLL_SECONDS == 3600
    assert certificates.PENDING_RETENTION_SECONDS == 86400
    assert "1 to 2 hours" in certificates.RETENTION


# ------------------------------------------------------------------ audit log history


def event(
    verb: str,
    name: str,
    at: str,
    user: str,
    groups: tuple[str, ...] = (),
    sub: str = "",
    code: int = 200,
    dry_run: bool = False,
    impersonated: str = "",
    body: Obj | None = None,
) -> Obj:
    uri = f"/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}"
    out: Obj = {
        "verb": verb,
        "stage": "ResponseComplete",
        "requestURI": uri + ("?dryRun=All" if dry_run else ""),
        "stageTimestamp": at,
        "objectRef": {
            "resource": "certificatesigningrequests",
            "name": name,
            **({"subresource": sub} if sub else {}),
        },
        "user": {"username": user, "groups": list(groups)},
        "responseStatus": {"code": code},
    }
    if impersonated:
        out["impersonatedUser"] = {"username": impersonated, "groups": ["system:authenticated"]}
    if body is not None:
        out["requestObject"] = body
    return out


CONTROLLER = csr_history.CONTROLLERS[0]
ADMIN = ("kubernetes-super-admin", ("system:masters", "system:authenticated"))


def issued_to(name: str, requester: str, groups: tuple[str, ...] = ()) -> list[Obj]:
    return [
        event("create", name, "2026-12-01T08:00:00Z", requester, groups),
        event("update", name, "2026-12-01T08:00:01Z", *ADMIN, sub="approval"),
        event("update", name, "2026-12-01T08:00:02Z", CONTROLLER, sub="status"),
        event("delete", name, "2026-12-01T09:30:00Z", CONTROLLER),
    ]


def judge(events: list[Obj], listed: set[str] | None = None) -> csr_history.HistoryJudgement:
    lives, _unnamed = csr_history.lifecycles(events)
    return csr_history.judge(lives, listed or set())


def test_certificate_issued_to_a_person_and_cleaned_up_is_found() -> None:
    history = judge(issued_to("jane-cert", "jane", ("system:authenticated",)))
    (finding,) = history.findings
    assert finding.ref == "CertificateSigningRequest jane-cert"
    assert finding.finding_class == "client-certificate-in-audit-log"
    assert "issued to jane" in finding.detail
    assert f"deleted by {CONTROLLER} at 2026-12-01T09:30:00Z" in finding.detail


def test_impersonated_filer_is_the_requester() -> None:
    events = issued_to("via-as", "kubernetes-super-admin")
    events[0] = event("create", "via-as", "2026-12-01T08:00:00Z", *ADMIN, impersonated="jane")
    (finding,) = judge(events).findings
    assert "issued to jane" in finding.detail


def test_node_and_bootstrap_filings_are_taken_as_kubelets() -> None:
    history = judge(
        issued_to("renew", "system:node:n1", ("system:nodes",))
        + issued_to("boot", "system:bootstrap:abc", ("system:bootstrappers",))
    )
    assert history.findings == []
    assert len(history.kubelet_assumed) == 2


def test_dry_run_failed_and_denied_writes_do_not_count() -> None:
    name = "probe"
    events = [
        event("create", name, "2026-12-01T08:00:00Z", "jane"),
        event("update", name, "2026-12-01T08:00:01Z", *ADMIN, sub="approval", dry_run=True),
        event("update", name, "2026-12-01T08:00:01Z", "jane", sub="approval", code=403),
        event("update", name, "2026-12-01T08:00:02Z", CONTROLLER, sub="status", dry_run=True),
        event("delete", name, "2026-12-01T08:00:03Z", *ADMIN),
    ]
    history = judge(events)
    assert history.findings == []
    denied = issued_to("denied", "jane")
    denied[1]["requestObject"] = {"status": {"conditions": [{"type": "Denied"}]}}
    assert judge(denied).findings == []


def test_approved_but_never_signed_is_recorded_not_found() -> None:
    events = issued_to("unsigned", "jane")
    del events[2]
    history = judge(events)
    assert history.findings == []
    assert history.judged and "approval written, no certificate" in history.judged[0]


def test_listed_csrs_are_left_to_the_list() -> None:
    events = issued_to("still-listed", "jane")[:3]
    assert judge(events, {"still-listed"}).findings == []
    assert judge(events, set()).findings  # not listed any more: judged from the log


def test_name_reused_after_deletion_is_a_new_lifecycle() -> None:
    again = event("create", "reused", "2026-12-01T10:00:00Z", "system:node:n1", ("system:nodes",))
    events = [*issued_to("reused", "jane"), again]
    lives, _ = csr_history.lifecycles(events)
    assert [life.filed.by for life in lives if life.filed] == ["jane", "system:node:n1"]
    assert len(judge(events, {"reused"}).findings) == 1


def test_request_level_log_is_judged_in_full() -> None:
    node_csr, _ = LISTED["fake node filed by a person"]
    body = {
        "metadata": {"name": "full"},
        "spec": {k: node_csr["spec"][k] for k in ("request", "signerName", "usages")},
    }
    events = issued_to("full", "jane", ("system:authenticated",))
    events[0]["requestObject"] = body
    (finding,) = judge(events).findings
    assert finding.finding_class == "node-client-certificate"
    assert "from the API server audit log" in finding.detail
    own, _ = LISTED["kubelet renewing its own certificate"]
    body = {"spec": {k: own["spec"][k] for k in ("request", "signerName", "usages")}}
    events = issued_to("own", "system:node:n1", ("system:nodes", "system:authenticated"))
    events[0]["requestObject"] = {**body, "metadata": {"name": "own"}}
    assert judge(events).findings == []


def test_approvals_without_a_filing() -> None:
    events = [
        event("update", "csr-abcde", "2026-12-01T08:00:01Z", CONTROLLER, sub="approval"),
        event("update", "csr-abcde", "2026-12-01T08:00:02Z", CONTROLLER, sub="status"),
        event("update", "csr-fghij", "2026-12-01T08:00:03Z", *ADMIN, sub="approval"),
    ]
    history = judge(events)
    assert history.findings == []
    assert [line.split(":")[0] for line in history.kubelet_assumed] == ["csr-abcde"]
    assert [line.split(":")[0] for line in history.unjudged] == ["csr-fghij"]


def test_unnamed_filings_are_counted() -> None:
    created = {
        "verb": "create",
        "stage": "ResponseComplete",
        "requestURI": "/apis/certificates.k8s.io/v1/certificatesigningrequests",
        "stageTimestamp": "2026-12-01T08:00:00Z",
        "objectRef": {"resource": "certificatesigningrequests"},
        "user": {"username": "system:node:vm", "groups": ["system:nodes"]},
        "responseStatus": {"code": 201},
    }
    lives, unnamed = csr_history.lifecycles([created])
    assert lives == [] and [w.by for w in unnamed] == ["system:node:vm"]


def test_recorded_compliant_log() -> None:
    events = json.loads((DATA / "compliant" / "audit-csr-writes.json").read_text())
    listed = {
        c["metadata"]["name"] for c in json.loads((DATA / "compliant" / "csrs.json").read_text())
    }
    lives, unnamed = csr_history.lifecycles(events)
    history = csr_history.judge(lives, listed)
    assert history.findings == [] and history.unjudged == []
    assert [w.by for w in unnamed] == ["system:node:vm"]


# ------------------------------------------------------------------ reading the log files


def write_log(path: Path, events: list[Obj], compress: bool = False) -> None:
    lines = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(lines) if compress else lines)


def test_reads_backups_oldest_first_and_keeps_only_csr_writes(tmp_path: Path) -> None:
    folder = tmp_path / "var/log/kubernetes/audit"
    noise = {
        "verb": "get",
        "requestReceivedTimestamp": "2026-11-30T00:00:00Z",
        "objectRef": {"resource": "secrets", "name": "s"},
        "requestObject": {"data": {"token": "c2VjcmV0"}},
    }
    listing = {**noise, "verb": "list", "objectRef": {"resource": "certificatesigningrequests"}}
    old = issued_to("old", "jane")
    for e in old:
        e["requestReceivedTimestamp"] = e["stageTimestamp"]
    write_log(folder / "audit-2026-11-30T00-00-00.000.log.gz", [noise, *old[:2]], compress=True)
    write_log(folder / "audit-2026-11-30T12-00-00.000.log", [listing, *old[2:]])
    write_log(folder / "audit.log", [{**noise, "requestReceivedTimestamp": "2026-12-01T00:00:00Z"}])
    (folder / "audit-policy.yaml").write_text("not a log", encoding="utf-8")
    read = read_csr_writes(str(tmp_path), "/var/log/kubernetes/audit/audit.log")
    assert [Path(f).name for f in read.files] == [
        "audit-2026-11-30T00-00-00.000.log.gz",
        "audit-2026-11-30T12-00-00.000.log",
        "audit.log",
    ]
    assert read.earliest == "2026-11-30T00:00:00Z"
    assert [e["verb"] for e in read.events] == ["create", "update", "update", "delete"]
    assert "c2VjcmV0" not in json.dumps(list(read.events))
    assert "reaches back to 2026-11-30T00:00:00Z: 4 CSR write(s)" in read.coverage()
    assert len(judge(list(read.events)).findings) == 1


def test_missing_log(tmp_path: Path) -> None:
    read = read_csr_writes(str(tmp_path), "/var/log/kubernetes/audit/audit.log")
    assert read.files == () and read.events == ()
    assert read.coverage().startswith("no audit log file at")
    assert log_files(tmp_path / "nothing" / "audit.log") == []


def test_request_bodies_keep_only_the_csr_spec(tmp_path: Path) -> None:
    body = {
        "metadata": {"name": "full", "annotations": {"x": "y"}},
        "spec": {
            "request": "UkVR",
            "signerName": KUBELET,
            "usages": ["client auth"],
            "extra": {"k": ["v"]},
        },
    }
    write_log(tmp_path / "audit.log", [event("create", "full", "t", "jane", body=body)])
    read = read_csr_writes(str(tmp_path), "/audit.log")
    (kept,) = read.events
    assert kept["requestObject"] == {
        "metadata": {"name": "full"},
        "spec": {"request": "UkVR", "signerName": KUBELET, "usages": ["client auth"]},
    }


def test_recorded_noncompliant_csrs() -> None:
    listed = json.loads((DATA / "noncompliant" / "csrs.json").read_text())
    findings, seen = certificates.listed_findings(listed)
    assert sorted((f.name, f.finding_class) for f in findings) == [
        ("kubepci-fixture-fake-node", "node-client-certificate"),
        ("kubepci-fixture-jane", "client-certificate"),
        ("kubepci-fixture-masters", "system-masters"),
    ]
    assert [r["name"] for r in seen if r["exempt"]] == [
        n["metadata"]["name"] for n in listed if n["spec"]["username"] == "system:node:vm"
    ]


def test_recorded_noncompliant_log_once_the_list_is_cleaned() -> None:
    """What the audit log alone says once csrcleaner has deleted every fixture CSR."""
    events = json.loads((DATA / "noncompliant" / "audit-csr-writes.json").read_text())
    lives, unnamed = csr_history.lifecycles(events)
    history = csr_history.judge(lives, set())
    assert sorted(f.name for f in history.findings) == [
        "kubepci-fixture-fake-node",
        "kubepci-fixture-jane",
    ]
    fake = next(f for f in history.findings if f.name == "kubepci-fixture-fake-node")
    assert "issued to jane" in fake.detail  # filed by the admin, impersonating jane
    assert any(
        line.startswith("kubepci-fixture-masters: approval written, no certificate")
        for line in history.judged
    )
    assert [w.by for w in unnamed] == ["system:node:vm"]
    assert len(history.kubelet_assumed) == 1 and history.unjudged == []


def test_every_kind_of_subject_alternative_name_is_read() -> None:
    import ipaddress

    from cryptography import x509

    from tests.builders import csr, csr_pem

    sans = [
        x509.DNSName("node.example"),
        x509.RFC822Name("jane@example.com"),
        x509.IPAddress(ipaddress.ip_address("192.0.2.9")),
        x509.UniformResourceIdentifier("spiffe://example/jane"),
    ]
    raw = csr_pem("system:node:n1", ["system:nodes", "dev"], sans)
    identity = certificates.requested_identity(csr("x", "", request=raw))
    assert identity is not None
    assert identity.sans == (
        "DNS:node.example",
        "email:jane@example.com",
        "IP:192.0.2.9",
        "URI:spiffe://example/jane",
    )
    assert certificates.kubelet_client_problem(identity, ["client auth"]) == (
        "O=system:nodes,dev is not exactly system:nodes"
    )
    only_nodes = certificates.requested_identity(
        csr("y", "", request=csr_pem("system:node:n1", ["system:nodes"], sans[:2]))
    )
    assert only_nodes is not None
    assert certificates.kubelet_client_problem(only_nodes, ["client auth"]) == (
        "it asks for subject alternative names (DNS:node.example, email:jane@example.com)"
    )
    no_org = certificates.requested_identity(csr("z", "system:node:n1"))
    assert no_org is not None
    assert certificates.kubelet_client_problem(no_org, []) == "O=- is not exactly system:nodes"


def test_a_client_signer_makes_a_client_request_whatever_the_usages() -> None:
    assert certificates.is_client_request({"signerName": certificates.CLIENT_SIGNER})
    assert certificates.is_client_request(
        {"signerName": "example.com/x", "usages": ["client auth"]}
    )
    assert not certificates.is_client_request({"signerName": "example.com/x", "usages": []})


def test_listed_requests_after_a_serving_one_are_judged_and_rowed() -> None:
    from tests.builders import csr

    serving = csr(
        "serving", "system:node:n1", ["system:nodes"], signer="kubernetes.io/kubelet-serving"
    )
    serving["spec"]["usages"] = ["server auth"]
    broken = csr("broken", "", request=b"not a request", signer=certificates.NODE_CLIENT_SIGNER)
    findings, rows = certificates.listed_findings([serving, broken])
    assert [f.name for f in findings] == ["broken"]
    assert [(r["name"], r["subject"], r["exempt"]) for r in rows] == [
        ("broken", "unparseable", None)
    ]


# ------------------------------------------------------------------ word for word
def test_an_unparseable_request_finding_in_full() -> None:
    assert certificates.request_findings("csr-x", {}, None, " (audit log)", True) == [
        Finding(
            "CertificateSigningRequest",
            "",
            "csr-x",
            "request cannot be parsed (audit log)",
            "unparseable-request",
        )
    ]


def test_a_pending_system_masters_request_and_a_body_without_signer_or_requester() -> None:
    identity = certificates.RequestedIdentity("root", ("system:masters",))
    (pending,) = certificates.request_findings("csr-r", {}, identity, "", False)
    assert pending.detail == (
        "a request for CN=root O=system:masters (signer ), a group that bypasses RBAC and "
        "cannot be revoked"
    )
    # An audit-log request body carries no username (the API server fills it in on
    # create, registry/certificates/certificates/strategy.go PrepareForCreate).
    node = certificates.RequestedIdentity("system:node:fake", ("system:nodes",))
    spec = {"signerName": KUBELET, "usages": KUBELET_USAGES}
    (finding,) = certificates.request_findings("csr-n", spec, node, "", True)
    assert "requested by an unknown requester, neither node fake itself" in finding.detail


def test_a_bootstrap_holder_without_a_username() -> None:
    node = certificates.RequestedIdentity("system:node:n1", ("system:nodes",))
    spec = {"groups": ["system:bootstrappers"]}
    assert certificates.node_certificate_holder(spec, node) == "requested by bootstrap identity "
    assert certificates.node_certificate_holder({}, node) == ""


@pytest.mark.parametrize(
    "controllers", ["Xcsrcleaner", "Xcertificatesigningrequest-cleaner-controller", "X-csrcleaner"]
)
def test_only_leading_dashes_are_stripped_from_controller_names(controllers: str) -> None:
    assert certificates.cleaner_enabled(controllers) is False


def test_writes_after_unnamed_ones_are_still_read() -> None:
    """An unnamed write (a collection delete, a create the log cut short) is passed over,
    and the log is read on after it."""
    unnamed = [
        event("create", "", "2026-12-01T07:00:00Z", "jane"),
        event("delete", "", "2026-12-01T07:00:01Z", CONTROLLER),
    ]
    lives, _ = csr_history.lifecycles([*unnamed, *issued_to("jane-cert", "jane")])
    assert [life.name for life in lives] == ["jane-cert"]
    (life,) = lives
    assert life.deleted is not None and life.deleted.at == "2026-12-01T09:30:00Z"
