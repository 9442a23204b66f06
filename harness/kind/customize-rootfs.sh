#!/usr/bin/env bash
# mmdebstrap customize hook for the kind node's base rootfs: what kind's own base image
# Dockerfile (images/base/Dockerfile in sigs.k8s.io/kind) does after installing packages,
# with kind's static files taken from the kind module of the pinned version.
#   customize-rootfs.sh ROOTFS KIND_SOURCE_DIR
set -euo pipefail
root=$1
files=$2/images/base/files

install -d -m 0755 "$root/kind" "$root/kind/bin" "$root/LICENSES" "$root/usr/local/bin"
install -m 0755 "$files"/usr/local/bin/* "$root/usr/local/bin/"
install -m 0755 "$files"/kind/bin/* "$root/kind/bin/"
install -m 0644 "$files"/kind/README.txt "$root/kind/"
install -m 0644 "$files"/LICENSES/* "$root/LICENSES/"
install -m 0644 "$files"/etc/crictl.yaml "$root/etc/"
install -d -m 0755 "$root/etc/containerd" "$root/etc/default" "$root/etc/sysctl.d" \
  "$root/etc/systemd/system/kubelet.service.d"
install -m 0644 "$files"/etc/containerd/* "$root/etc/containerd/"
install -m 0644 "$files"/etc/default/* "$root/etc/default/"
install -m 0644 "$files"/etc/sysctl.d/* "$root/etc/sysctl.d/"
for unit in "$files"/etc/systemd/system/*; do
  [ -f "$unit" ] && install -m 0644 "$unit" "$root/etc/systemd/system/"
done
install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"

# kind's node expects the CNI plugins in /opt/cni/bin; Debian installs them in /usr/lib/cni.
install -d -m 0755 "$root/opt/cni/bin"
for plugin in "$root"/usr/lib/cni/*; do
  ln -sf "/usr/lib/cni/$(basename "$plugin")" "$root/opt/cni/bin/$(basename "$plugin")"
done

# The same clean-up of units as kind's Dockerfile.
find "$root/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
rm -f "$root"/lib/systemd/system/multi-user.target.wants/* \
  "$root"/etc/systemd/system/*.wants/* \
  "$root"/lib/systemd/system/local-fs.target.wants/* \
  "$root"/lib/systemd/system/sockets.target.wants/*udev* \
  "$root"/lib/systemd/system/sockets.target.wants/*initctl* \
  "$root"/lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
chroot "$root" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
chroot "$root" systemctl mask systemd-binfmt.service
install -d -m 0755 "$root/etc/kubernetes/manifests"
# No apt lists or caches in the image.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*
