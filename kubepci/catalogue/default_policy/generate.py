"""Regenerate the packaged default RBAC policy from the Kubernetes source in the Go module cache.

    .venv/bin/python kubepci/catalogue/default_policy/generate.py [--gomodcache DIR]

writes ``kubernetes-v1.35.json`` (the API server's bootstrap policy) and ``kubeadm-v1.35.json``
(what ``kubeadm init`` grants). A live grant is set aside as Kubernetes' own only when it is
exactly one of these, so the data comes from the source, never from a cluster, and every
cited Go line is checked to still say what it is cited for.

Kubernetes: the golden files policy_test.go holds the bootstrap policy to (``testdata``). A
role's default rules are the union of ``cluster-roles.yaml`` and ``-featuregates.yaml`` (every
alpha and beta gate on), as a gate only ever adds rules; controller roles that exist only
behind a gate have no golden file and are transcribed from controller_policy.go. Aggregated
ClusterRoles (admin, edit, view) hold what the aggregation controller computes from the
default roles alone, so a live admin role reaching further (a CRD's role) is not default.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]
Data = dict[str, dict[tuple[str, str], Obj]]

VERSION, K8S, RBAC = "1.35", "k8s.io/kubernetes@v1.35.4", "rbac.authorization.k8s.io"
BOOT = f"{K8S}/plugin/pkg/auth/authorizer/rbac/bootstrappolicy"
KUBEADM = f"{K8S}/cmd/kubeadm/app"
OUT = Path(__file__).resolve().parent
KEYS = CR, CRB, ROLES, RB = ("clusterroles", "clusterrolebindings", "roles", "rolebindings")
# fmt: off
GOLDEN = {  # golden file -> the list it feeds
    "cluster-roles.yaml": CR, "cluster-roles-featuregates.yaml": CR, "controller-roles.yaml": CR,
    "namespace-roles.yaml": ROLES, "cluster-role-bindings.yaml": CRB,
    "controller-role-bindings.yaml": CRB, "namespace-role-bindings.yaml": RB,
}
# Where kubeadm's constants live: constants.go, else the phase file or library declaring it.
CONSTANT_FILES = (
    f"{KUBEADM}/constants/constants.go", f"{KUBEADM}/phases/addons/proxy/proxy.go",
    f"{KUBEADM}/phases/bootstraptoken/clusterinfo/clusterinfo.go",
    f"{KUBEADM}/phases/uploadconfig/uploadconfig.go",
    "k8s.io/apiserver@v0.35.4/pkg/authentication/user/user.go",
    "k8s.io/cluster-bootstrap@v0.35.4/token/api/types.go")
NOT_SET_ASIDE = {  # kubeadm grants the PCI checks must still judge, by the constant naming them
    "ClusterAdminsGroupAndClusterRoleBinding": "kubeadm binds cluster-admin to the "
    "kubeadm:cluster-admins group carried by the shared admin.conf client certificate; a shared "
    "super-user credential is what PCI 1.2.1 forbids, so the grant is judged, not set aside",
    "BootstrapSignerClusterRoleName": "kubeadm lets system:anonymous read kube-public/cluster-info "
    "for token discovery; anonymous access is judged under PCI 1.1, so it is not set aside",
}
# fmt: on


@dataclass(frozen=True)
class Source:
    """The Go module cache, read-only; every citation is checked against the file."""

    root: Path

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text()

    def cite(self, rel: str, line: int, needle: str) -> str:
        if needle not in self.text(rel).splitlines()[line - 1]:
            raise SystemExit(f"{rel}:{line} no longer says {needle!r}; re-read the source")
        return f"{rel.removeprefix(K8S + '/')}:{line}"


def rule(verbs: list[str], groups: list[str], resources: list[str], names: tuple = ()) -> Obj:
    # NewRule(...).RuleOrDie() sorts every list (pkg/apis/rbac/v1/helpers.go:94-98).
    out = {"apiGroups": groups, "resources": resources, "verbs": verbs, "resourceNames": names}
    return {k: sorted(v) for k, v in out.items() if v}


def subject(kind: str, name: str, namespace: str = "") -> Obj:
    # The API defaults a User or Group subject's apiGroup to rbac.authorization.k8s.io and a
    # ServiceAccount's to "" (pkg/apis/rbac/v1/defaults.go:38-48); store what the API holds.
    out = {"kind": kind, "name": name, "apiGroup": "" if kind == "ServiceAccount" else RBAC}
    return {k: v for k, v in (out | {"namespace": namespace}).items() if v}


def binding(name: str, kind: str, role: str, subjects: list[Obj], ns: str = "") -> Obj:
    out = {"name": name, "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role}}
    return out | {"subjects": subjects} | ({"namespace": ns} if ns else {})


def clean(item: Obj) -> Obj:
    """The fields that decide what a role grants or a binding reaches; metadata is no proof."""
    meta = item["metadata"]
    ns = {"namespace": meta["namespace"]} if meta.get("namespace") else {}
    if item["kind"] not in ("ClusterRole", "Role"):
        ref, subs = item["roleRef"], item.get("subjects") or []
        subs = [subject(s["kind"], s["name"], s.get("namespace", "")) for s in subs]
        return binding(meta["name"], ref["kind"], ref["name"], subs) | ns
    keys = ("apiGroups", "nonResourceURLs", "resourceNames", "resources", "verbs")
    rules = [{k: r[k] for k in keys if r.get(k)} for r in item.get("rules") or []]
    agg = {"aggregationRule": item["aggregationRule"]} if item.get("aggregationRule") else {}
    return {"name": meta["name"], "rules": rules} | ns | agg


# fmt: off
def gated_controllers(src: Source) -> list[tuple[str, str, list[Obj]]]:
    """Controller roles that exist only behind a feature gate, absent from the golden file."""
    ev = rule(["create", "update", "patch"], ["", "events.k8s.io"], ["events"])  # eventsRule()
    read, up = ["get", "list", "watch"], ["update", "patch"]
    cg, rg, ia = "certificates.k8s.io", "resource.k8s.io", "internal.apiserver.k8s.io"
    gated = [
        # DRADeviceTaints; DRADeviceTaintRules adds the last two rules (lines 218-245)
        ("device-taint-eviction-controller", 242, [
            rule([*read, "delete"], [""], ["pods"]), rule(up, [""], ["pods/status"]),
            rule(read, [rg], ["resourceclaims"]), rule(read, [rg], ["resourceslices"]),
            rule(read, [rg], ["deviceclasses"]), ev,
            rule(up, [rg], ["devicetaintrules/status"]), rule(read, [rg], ["devicetaintrules"])]),
        ("podcertificaterequestcleaner", 442, [  # PodCertificateRequest
            rule([*read, "delete"], [cg], ["podcertificaterequests"])]),
        ("kube-apiserver-serving-clustertrustbundle-publisher", 492, [  # ClusterTrustBundle
            rule(["attest"], [cg], ["signers"], ("kubernetes.io/kube-apiserver-serving",)),
            rule(["create", "update", "delete", "list", "watch"], [cg], ["clustertrustbundles"]),
            ev]),
        ("storage-version-garbage-collector", 515, [  # StorageVersionAPI, APIServerIdentity
            rule(read, ["coordination.k8s.io"], ["leases"]),
            rule([*read, *up, "delete"], [ia], ["storageversions"]),
            rule(["get", *up], [ia], ["storageversions/status"])]),
        ("storage-version-migrator-controller", 537, [  # StorageVersionMigrator
            rule(["list", "create", "patch"], ["*"], ["*"]),
            rule(["update"], ["storagemigration.k8s.io"], ["storageversionmigrations/status"])]),
    ]
    go = f"{BOOT}/controller_policy.go"
    return [(name, src.cite(go, line, name), rules) for name, line, rules in gated]


def kubeadm_grants(k: dict[str, str]) -> list[tuple[str, int, str, Obj]]:
    """kubeadm's grants as (phase file, line that builds the object, list key, object)."""
    boot, nodes = (subject("Group", k[n]) for n in ("NodeBootstrapTokenAuthGroup", "NodesGroup"))
    ks, kp, cm = "kube-system", "kube-public", "configmaps"
    tls = "bootstraptoken/node/tlsbootstrap.go"
    admins, get_nodes = k["ClusterAdminsGroupAndClusterRoleBinding"], k["GetNodesClusterRoleName"]
    proxy, proxy_role = "addons/proxy/proxy.go", k["KubeProxyConfigMapRoleName"]
    proxy_sa = subject("ServiceAccount", k["KubeProxyServiceAccountName"], ks)
    grants = [
        # AllowBootstrapTokensToPostCSRs, AllowBootstrapTokensToGetNodes (role and binding),
        # AutoApproveNodeBootstrapTokens, AutoApproveNodeCertificateRotation
        (tls, 34, CRB, binding(k["NodeKubeletBootstrap"], "ClusterRole",
                               k["NodeBootstrapperClusterRoleName"], [boot])),
        (tls, 56, CR, {"name": get_nodes, "rules": [rule(["get"], [""], ["nodes"])]}),
        (tls, 71, CRB, binding(get_nodes, "ClusterRole", get_nodes, [boot])),
        (tls, 94, CRB, binding(k["NodeAutoApproveBootstrapClusterRoleBinding"], "ClusterRole",
                               k["CSRAutoApprovalClusterRoleName"], [boot])),
        (tls, 116, CRB, binding(k["NodeAutoApproveCertificateRotationClusterRoleBinding"],
                                "ClusterRole", k["NodeSelfCSRAutoApprovalClusterRoleName"],
                                [nodes])),
        # EnsureAdminClusterRoleBindingImpl: the group admin.conf's client certificate carries
        ("kubeconfig/kubeconfig.go", 663, CRB,
         binding(admins, "ClusterRole", "cluster-admin", [subject("Group", admins)])),
        # kube-proxy addon: its ServiceAccount runs as system:node-proxier
        (proxy, 82, CRB, binding(k["KubeProxyClusterRoleBindingName"], "ClusterRole",
                                 k["KubeProxyClusterRoleName"], [proxy_sa])),
    ]
    # Roles that may get one named object, and their RoleBindings: (file, role's line,
    # binding's line, namespace, role, resource, object, subjects).
    readers = [
        # kube-proxy addon: bootstrap tokens read the kube-proxy ConfigMap
        (proxy, 100, 115, ks, proxy_role, cm, k["KubeProxyConfigMap"], [boot]),
        # CreateClusterInfoRBACRules: anonymous discovery of kube-public/cluster-info
        ("bootstraptoken/clusterinfo/clusterinfo.go", 85, 103, kp,
         k["BootstrapSignerClusterRoleName"], cm, k["ConfigMapClusterInfo"],
         [subject("User", k["Anonymous"])]),
        # createConfigMapRBACRules: nodes and bootstrap tokens read the kubelet ConfigMap
        ("kubelet/config.go", 165, 182, ks, k["KubeletBaseConfigMapRole"], cm,
         k["KubeletBaseConfigurationConfigMap"], [nodes, boot]),
        # UploadConfiguration: nodes and bootstrap tokens read kubeadm-config
        ("uploadconfig/uploadconfig.go", 81, 102, ks, k["NodesKubeadmConfigClusterRoleName"], cm,
         k["KubeadmConfigConfigMap"], [boot, nodes]),
        # UploadCerts (only with --upload-certs): bootstrap tokens read the encrypted certs;
        # the role name is constants.go:513, Sprintf("kubeadm:%s", KubeadmCertsSecret)
        ("copycerts/copycerts.go", 124, 142, ks, "kubeadm:" + k["KubeadmCertsSecret"], "secrets",
         k["KubeadmCertsSecret"], [boot]),
    ]
    for f, role_line, binding_line, ns, name, resource, obj, subjects in readers:
        role = {"name": name, "namespace": ns, "rules": [rule(["get"], [""], [resource], (obj,))]}
        grants.append((f, role_line, ROLES, role))
        grants.append((f, binding_line, RB, binding(name, "Role", name, subjects, ns)))
    return grants
# fmt: on


def aggregate(roles: dict[tuple[str, str], Obj], labels: dict[str, dict[str, str]]) -> None:
    """Fill aggregated roles as clusterroleaggregation_controller.go:101-126 does: matched
    roles in name order, the role itself skipped, an identical rule once."""
    by_name = {name: role for (_, name), role in roles.items()}

    def rules_of(name: str, seen: frozenset[str]) -> list[Obj]:
        agg, out = by_name[name].get("aggregationRule"), []
        if not agg:
            return list(by_name[name]["rules"])
        if name in seen:
            raise SystemExit(f"aggregation cycle through {name}")
        for selector in agg["clusterRoleSelectors"]:
            if set(selector) != {"matchLabels"}:
                raise SystemExit(f"{name}: only matchLabels selectors are modelled")
            for other in sorted(n for n in by_name if n != name):
                if selector["matchLabels"].items() <= labels.get(other, {}).items():
                    out += [r for r in rules_of(other, seen | {name}) if r not in out]
        return out

    resolved = {n: rules_of(n, frozenset()) for n, r in by_name.items() if r.get("aggregationRule")}
    for name, rules in resolved.items():
        by_name[name]["rules"] = rules


def kubernetes(src: Source) -> Obj:
    data: Data = {k: {} for k in KEYS}
    labels: dict[str, dict[str, str]] = {}
    for fname, key in GOLDEN.items():
        for item in yaml.safe_load(src.text(f"{BOOT}/testdata/{fname}"))["items"]:
            entry, meta = clean(item), item["metadata"]
            prior = data[key].setdefault((meta.get("namespace", ""), meta["name"]), entry)
            if key == CR:
                labels.setdefault(entry["name"], {}).update(meta.get("labels") or {})
                prior["rules"] += [r for r in entry["rules"] if r not in prior["rules"]]
            elif prior != entry:
                raise SystemExit(f"{fname}: {meta['name']} differs from an earlier golden file")
    gated = gated_controllers(src)
    for suffix, _, rules in gated:
        # addControllerRole binds it to its kube-system ServiceAccount (controller_policy.go:49)
        name, sa = "system:controller:" + suffix, subject("ServiceAccount", suffix, "kube-system")
        data[CR][("", name)] = {"name": name, "rules": rules}
        data[CRB][("", name)] = binding(name, "ClusterRole", name, [sa])
    ctb = "system:cluster-trust-bundle-discovery"  # gate ClusterTrustBundle; its role is golden
    data[CRB][("", ctb)] = binding(
        ctb, "ClusterRole", ctb, [subject("Group", "system:serviceaccounts")]
    )
    aggregate(data[CR], labels)
    sources = [f"{BOOT.removeprefix(K8S + '/')}/testdata/{f}" for f in GOLDEN]
    sources += [c for _, c, _ in gated] + [src.cite(f"{BOOT}/policy.go", 714, ctb)]
    return document("kubernetes", sources, data)


def kubeadm(src: Source) -> Obj:
    consts: dict[str, str] = {}
    for rel in reversed(CONSTANT_FILES):  # constants.go wins a clash
        consts |= dict(re.findall(r'^\s*([A-Z]\w*)\s*=\s*"([^"]*)"', src.text(rel), re.M))
    reasons = {consts[name]: why for name, why in NOT_SET_ASIDE.items()}
    phases = f"{KUBEADM}/phases"
    data: dict[str, dict[tuple[str, str], Obj]] = {k: {} for k in KEYS}
    grants = [(f"{phases}/{f}", line, key, obj) for f, line, key, obj in kubeadm_grants(consts)]
    # CoreDNS's ClusterRole and binding are YAML manifests in manifests.go; read them as YAML.
    dns_go = f"{phases}/addons/dns/manifests.go"
    for const, key in (("CoreDNSClusterRole", CR), ("CoreDNSClusterRoleBinding", CRB)):
        found = re.search(rf"^\s*{const} = `(.*?)`", src.text(dns_go), re.M | re.S)
        assert found, f"{const} not found in {dns_go}"
        line = src.text(dns_go)[: found.start()].count("\n") + 1
        grants.append((dns_go, line, key, clean(yaml.safe_load(found[1]))))
    for rel, line, key, obj in grants:
        # The line must still build an object of this kind, or the citation has drifted.
        kind = {CR: "ClusterRole", ROLES: "Role"}.get(key, "RoleBinding")
        reason = reasons.get(obj["name"], "")
        obj |= {"source": src.cite(rel, line, kind), "set_aside": not reason}
        obj |= {"reason": reason} if reason else {}
        data[key][(obj.get("namespace", ""), obj["name"])] = obj
    sources = {rel.removeprefix(K8S + "/") for rel in [*(g[0] for g in grants), *CONSTANT_FILES]}
    return document("kubeadm", sorted(sources), data)


def document(origin: str, sources: list[str], data: Data) -> Obj:
    head = {"version": VERSION, "provenance": f"{origin} v{VERSION}", "module": K8S}
    return head | {"source": sources} | {k: [v for _, v in sorted(data[k].items())] for k in KEYS}


def build(gomodcache: Path) -> dict[str, str]:
    """The data files' text; every default binding must name a role the data also holds."""
    src = Source(gomodcache)
    docs = [kubernetes(src), kubeadm(src)]
    roles = {(r.get("namespace", ""), r["name"]) for d in docs for r in d[CR] + d[ROLES]}
    for d in docs:
        for b in d[CRB] + d[RB]:
            ns = b.get("namespace", "") if b["roleRef"]["kind"] == "Role" else ""
            if (ns, b["roleRef"]["name"]) not in roles:
                raise SystemExit(f"{d['provenance']}: {b['name']} refers to a role not in the data")
    dump = lambda d: json.dumps(d, sort_keys=True, separators=(",", ":")) + "\n"  # noqa: E731
    return {f"{d['provenance'].split()[0]}-v{VERSION}.json": dump(d) for d in docs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    cache = os.environ.get("GOMODCACHE") or Path.home() / "go" / "pkg" / "mod"
    parser.add_argument("--gomodcache", type=Path, default=Path(cache))
    for name, text in build(parser.parse_args(argv).gomodcache).items():
        print("written:", OUT / name, (OUT / name).write_text(text), "characters")


if __name__ == "__main__":
    main()
