#!/usr/bin/env bash
# Builds what a kind node image needs beyond `make k8s`, from the Go module proxy, into the
# same cache outside the repo: the kind CLI, kube-proxy, etcd and CoreDNS at the versions
# kubeadm's defaults name, kindnetd (kind's own CNI, from harness/kindnetd) and the stand-in
# for kind's HA load balancer (harness/kind-lb). Idempotent: a binary already built for its
# pinned version is kept. Prints the bin directory as its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"

cache=${KUBEPCI_CACHE:-$HOME/.cache/kubepci}
bin="$cache/bin/kind-$KIND_VERSION-k8s-$K8S_VERSION"
mkdir -p "$bin"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
export GOSUMDB=${GOSUMDB:-sum.golang.org}

log() { printf '[build-kind] %s\n' "$*" >&2; }
command -v go >/dev/null || { log "a Go toolchain is required (see harness/README.md)"; exit 1; }

# kube-proxy comes from the same wrapper module as the rest of Kubernetes.
K8S_EXTRA_COMPONENTS=kube-proxy "$here/build-k8s.sh" >/dev/null

if [ ! -x "$bin/kind" ]; then
  log "building kind $KIND_VERSION"
  start=$(date +%s)
  GOBIN="$bin" go install "sigs.k8s.io/kind@$KIND_VERSION"
  log "built kind in $(( $(date +%s) - start ))s"
fi

# build_wrapped NAME MODULE VERSION PACKAGE [replace lines...]: go build PACKAGE inside a
# wrapper module that requires MODULE@VERSION, so its go.mod's own replace directives
# (local paths) do not apply.
build_wrapped() {
  local name=$1 module=$2 version=$3 package=$4; shift 4
  [ -x "$bin/$name" ] && return 0
  local mod="$cache/src/$name-$version"
  mkdir -p "$mod"
  log "building $name $version"
  local gomod
  gomod=$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  {
    echo "module kubepci.local/${name}build"
    echo
    grep -E '^go [0-9]' "$gomod"
    echo
    echo "require $module $version"
    for line in "$@"; do echo "$line"; done
  } > "$mod/go.mod"
  local start
  start=$(date +%s)
  (cd "$mod" && go build -mod=mod -trimpath -ldflags "-s -w" -o "$bin/$name.tmp" "$package")
  mv "$bin/$name.tmp" "$bin/$name"
  log "built $name in $(( $(date +%s) - start ))s"
}

etcd_replaces=()
for m in api/v3 client/pkg/v3 client/v3 pkg/v3; do
  etcd_replaces+=("replace go.etcd.io/etcd/$m => go.etcd.io/etcd/$m $KIND_ETCD_VERSION")
done
build_wrapped etcd go.etcd.io/etcd/server/v3 "$KIND_ETCD_VERSION" go.etcd.io/etcd/server/v3 \
  "${etcd_replaces[@]}"
build_wrapped coredns github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns

if [ ! -x "$bin/kindnetd" ] || [ "$here/kindnetd/go.sum" -nt "$bin/kindnetd" ]; then
  log "building kindnetd (harness/kindnetd)"
  start=$(date +%s)
  (cd "$here/kindnetd" && go build -mod=mod -trimpath -ldflags "-s -w" -o "$bin/kindnetd.tmp" ./cmd/kindnetd)
  mv "$bin/kindnetd.tmp" "$bin/kindnetd"
  log "built kindnetd in $(( $(date +%s) - start ))s"
fi

if [ -d "$here/kind-lb" ] && { [ ! -x "$bin/kind-lb" ] || [ -n "$(find "$here/kind-lb" -newer "$bin/kind-lb" -name '*.go')" ]; }; then
  log "building kind-lb (harness/kind-lb)"
  (cd "$here/kind-lb" && go build -trimpath -ldflags "-s -w" -o "$bin/kind-lb.tmp" .)
  mv "$bin/kind-lb.tmp" "$bin/kind-lb"
fi
echo "$bin"
