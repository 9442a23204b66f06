"""Container images without a registry: scratch OCI archives imported with `ctr`.

Each control-plane image holds one static binary from build-k8s.sh under the name kubeadm
asks for, so `imagePullPolicy: Never` finds it. Images are pinned (the kubelet's image GC
never removes them) and labelled with a digest of their inputs: a warm bring-up re-imports
nothing, and a rebuilt binary is re-imported automatically.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.layout import BIN, CONTAINERD_SOCKET, IMAGES, WORKLOAD_IMAGE, tool

NAMESPACE = "k8s.io"
SOURCE_LABEL = "kubepci.local/source-digest"
PATH_ENV = "PATH=/usr/local/bin:/usr/bin:/bin"
BUSYBOX = Path("/bin/busybox")

INDEX_HTML = b"<html><body><h1>kubepci fixture</h1></body></html>\n"


@dataclass
class ImageSpec:
    name: str
    files: dict[str, Path] = field(default_factory=dict)  # path in image -> host file
    links: dict[str, str] = field(default_factory=dict)  # symlink in image -> target
    blobs: dict[str, bytes] = field(default_factory=dict)  # path in image -> content
    entrypoint: list[str] = field(default_factory=list)

    def source_digest(self) -> str:
        """Digest of everything the image is made from; decides whether to re-import."""
        h = hashlib.sha256(self.name.encode())
        for dest, src in sorted(self.files.items()):
            st = src.stat()
            h.update(f"{dest}:{src}:{st.st_size}:{st.st_mtime_ns}".encode())
        for link, target in sorted(self.links.items()):
            h.update(f"{link}->{target}".encode())
        for dest, blob in sorted(self.blobs.items()):
            h.update(dest.encode() + hashlib.sha256(blob).digest())
        h.update(json.dumps(self.entrypoint).encode())
        return h.hexdigest()[:32]


def _ctr(*args: str, capture: bool = True) -> str:
    result = subprocess.run(
        [tool("ctr"), "--address", CONTAINERD_SOCKET, "--namespace", NAMESPACE, *args],
        capture_output=capture,
        text=True,
        check=True,
    )
    return result.stdout if capture else ""


def _tar_info(name: str, **kw: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = 0  # reproducible layers
    info.uid = info.gid = 0
    for key, value in kw.items():
        setattr(info, key, value)
    return info


def _write_layer(spec: ImageSpec, out: io.BufferedRandom) -> None:
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as layer:
        dirs = {str(Path(p).parent) for p in [*spec.files, *spec.links, *spec.blobs]}
        dirs |= {"tmp"}
        all_dirs: set[str] = set()
        for d in dirs:
            parts = Path(d.lstrip("/")).parts
            all_dirs |= {"/".join(parts[: i + 1]) for i in range(len(parts))}
        for d in sorted(all_dirs - {""}):
            mode = 0o1777 if d == "tmp" else 0o755
            layer.addfile(_tar_info(d, type=tarfile.DIRTYPE, mode=mode))
        for dest, src in sorted(spec.files.items()):
            with open(src, "rb") as fh:
                info = _tar_info(dest.lstrip("/"), size=src.stat().st_size, mode=0o755)
                layer.addfile(info, fh)
        for dest, blob in sorted(spec.blobs.items()):
            info = _tar_info(dest.lstrip("/"), size=len(blob), mode=0o644)
            layer.addfile(info, io.BytesIO(blob))
        for link, target in sorted(spec.links.items()):
            layer.addfile(_tar_info(link.lstrip("/"), type=tarfile.SYMTYPE, linkname=target))


def write_rootfs(spec: ImageSpec, out: Path) -> Path:
    """SPEC's files as one plain tarball, for `docker import` (the kind provider's images)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w+b") as fh:
        _write_layer(spec, fh)
    return out


def _add_blob(archive: tarfile.TarFile, data: bytes | Path) -> dict[str, object]:
    if isinstance(data, Path):
        h = hashlib.sha256()
        with open(data, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        digest, size = h.hexdigest(), data.stat().st_size
        archive.add(str(data), arcname=f"blobs/sha256/{digest}")
    else:
        digest, size = hashlib.sha256(data).hexdigest(), len(data)
        archive.addfile(_tar_info(f"blobs/sha256/{digest}", size=size), io.BytesIO(data))
    return {"digest": f"sha256:{digest}", "size": size}


def build_archive(spec: ImageSpec, out: Path) -> Path:
    """Write SPEC as an OCI image-layout tarball that `ctr images import` understands."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        layer_path = Path(tmp) / "layer.tar"
        with open(layer_path, "w+b") as fh:
            _write_layer(spec, fh)
        partial = out.with_suffix(".partial")
        with tarfile.open(partial, "w") as archive:
            layer = _add_blob(archive, layer_path)
            config = {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Env": [PATH_ENV], "Entrypoint": spec.entrypoint, "WorkingDir": "/"},
                "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
            }
            config_desc = _add_blob(archive, json.dumps(config).encode())
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_desc},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **layer}],
            }
            manifest_desc = _add_blob(archive, json.dumps(manifest).encode())
            index = {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": "application/vnd.oci.image.manifest.v1+json",
                        **manifest_desc,
                        "platform": {"architecture": "amd64", "os": "linux"},
                        # containerd names the imported image after this annotation.
                        "annotations": {"io.containerd.image.name": spec.name},
                    }
                ],
            }
            layout = {"imageLayoutVersion": "1.0.0"}
            for name, doc in (("index.json", index), ("oci-layout", layout)):
                data = json.dumps(doc).encode()
                archive.addfile(_tar_info(name, size=len(data)), io.BytesIO(data))
        partial.rename(out)
    return out


def _imported_digests() -> dict[str, str]:
    """Image name -> our source-digest label, for images already in containerd."""
    found: dict[str, str] = {}
    for line in _ctr("images", "list").splitlines()[1:]:
        cols = line.split()
        if not cols:
            continue
        labels = cols[-1]
        digest = ""
        for pair in labels.split(","):
            if pair.startswith(f"{SOURCE_LABEL}="):
                digest = pair.split("=", 1)[1]
        found[cols[0]] = digest
    return found


def control_plane_spec(image: str) -> ImageSpec | None:
    """Recipe for an image kubeadm lists, or None for ones we never run (proxy, CoreDNS)."""
    repo = image.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    if repo in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        return ImageSpec(
            name=image,
            files={f"/usr/local/bin/{repo}": BIN / repo},
            entrypoint=[],  # kubeadm's manifests give the command explicitly
        )
    if repo == "pause":
        return ImageSpec(name=image, files={"/pause": BIN / "pause"}, entrypoint=["/pause"])
    return None


def workload_spec() -> ImageSpec:
    """busybox httpd for fixture services; every applet reachable through /bin."""
    applets = subprocess.run(
        [str(BUSYBOX), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    links = {f"/bin/{a}": "busybox" for a in applets if a != "busybox"}
    return ImageSpec(
        name=WORKLOAD_IMAGE,
        files={"/bin/busybox": BUSYBOX},
        links=links,
        blobs={
            "/www/index.html": INDEX_HTML,
            "/etc/passwd": b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
            "/etc/group": b"root:x:0:\nnogroup:x:65534:\n",
        },
        entrypoint=["/bin/busybox", "httpd", "-f", "-v", "-p", "8080", "-h", "/www"],
    )


def ensure_images(specs: list[ImageSpec]) -> None:
    """Import and pin every image whose source changed or that containerd lacks."""
    present = _imported_digests()
    for spec in specs:
        digest = spec.source_digest()
        if present.get(spec.name) == digest:
            continue
        safe = spec.name.replace("/", "_").replace(":", "_")
        archive = IMAGES / f"{safe}-{digest}.tar"
        if not archive.exists():
            for stale in IMAGES.glob(f"{safe}-*.tar"):
                stale.unlink()
            build_archive(spec, archive)
        print(f"[images] importing {spec.name}", flush=True)
        _ctr("images", "import", "--platform", "linux/amd64", str(archive))
        _ctr(
            "images",
            "label",
            spec.name,
            "io.cri-containerd.pinned=pinned",
            f"{SOURCE_LABEL}={digest}",
        )
