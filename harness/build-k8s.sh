#!/usr/bin/env bash
# Builds the pinned Kubernetes release, etcd and containerd from the Go module
# proxy into a cache outside the repo. Idempotent: a binary already built for
# the pinned version is kept. Prints the bin directory as its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

cache=${KUBEPCI_CACHE:-$HOME/.cache/kubepci}
bin="$cache/bin/k8s-$K8S_VERSION"
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
export GOSUMDB=${GOSUMDB:-sum.golang.org}

log() { printf '[build-k8s] %s\n' "$*" >&2; }
command -v go >/dev/null || { log "a Go toolchain is required (see harness/README.md)"; exit 1; }

k8s_components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubeadm kubectl)
# build-kind.sh adds kube-proxy (K8S_EXTRA_COMPONENTS); the harness never runs it.
# shellcheck disable=SC2206
k8s_components+=(${K8S_EXTRA_COMPONENTS:-})
missing=()
for c in "${k8s_components[@]}"; do [ -x "$bin/$c" ] || missing+=("$c"); done

if [ ${#missing[@]} -gt 0 ]; then
  mod="$cache/src/k8s-$K8S_VERSION"
  mkdir -p "$mod"
  log "wrapper module for k8s.io/kubernetes $K8S_VERSION in $mod"
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  staging_minor="v0.${K8S_VERSION#v1.}"
  {
    echo "module kubepci.local/k8sbuild"
    echo
    grep -E '^go [0-9]' "$gomod"
    grep -E '^godebug ' "$gomod" || true
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    # Every staging module is required at v0.0.0 by k8s.io/kubernetes; pin each
    # to the published tag of this release.
    grep -E '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0$' "$gomod" | awk -v v="$staging_minor" '{print "replace " $1 " => " $1 " " v}'
  } > "$mod/go.mod"
  cd "$mod"
  build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  major=1; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags="$ldflags -X $pkg.buildDate=$build_date -X $pkg.gitTreeState=clean"
  done
  for c in "${missing[@]}"; do
    log "building $c $K8S_VERSION"
    start=$(date +%s)
    go build -mod=mod -trimpath -ldflags "$ldflags" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c"
    mv "$bin/$c.tmp" "$bin/$c"
    log "built $c in $(( $(date +%s) - start ))s"
  done
fi

if [ ! -x "$bin/etcd" ]; then
  mod="$cache/src/etcd-$ETCD_VERSION"
  mkdir -p "$mod"
  log "building etcd $ETCD_VERSION"
  gomod=$(go mod download -json "go.etcd.io/etcd/server/v3@$ETCD_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  {
    echo "module kubepci.local/etcdbuild"
    echo
    grep -E '^go [0-9]' "$gomod"
    echo
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    # etcd's own go.mod points its sibling modules at local paths; pin them to
    # the same published tag instead.
    for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
      echo "replace go.etcd.io/etcd/$m => go.etcd.io/etcd/$m $ETCD_VERSION"
    done
  } > "$mod/go.mod"
  cd "$mod"
  start=$(date +%s)
  go build -mod=mod -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$bin/etcd.tmp" "$bin/etcd"
  log "built etcd in $(( $(date +%s) - start ))s"
fi

if [ ! -x "$bin/containerd" ] || [ ! -x "$bin/containerd-shim-runc-v2" ] || [ ! -x "$bin/ctr" ]; then
  mod="$cache/src/containerd-$CONTAINERD_VERSION"
  mkdir -p "$mod"
  cd "$mod"
  [ -f go.mod ] || go mod init kubepci.local/containerdbuild >/dev/null 2>&1
  go get "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" >/dev/null 2>&1
  for c in containerd containerd-shim-runc-v2 ctr; do
    log "building $c $CONTAINERD_VERSION"
    start=$(date +%s)
    go build -mod=mod -trimpath -tags "no_btrfs no_devmapper no_zfs no_aufs" \
      -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
      -o "$bin/$c.tmp" "github.com/containerd/containerd/v2/cmd/$c"
    mv "$bin/$c.tmp" "$bin/$c"
    log "built $c in $(( $(date +%s) - start ))s"
  done
fi

if [ ! -x "$bin/pause" ]; then
  log "building pause"
  (cd "$here/pause" && go build -trimpath -ldflags "-s -w" -o "$bin/pause" .)
fi
echo "$bin"
