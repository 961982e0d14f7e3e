#!/usr/bin/env bash
# Installs every Debian 12 package swatsim needs. Idempotent: installs only what is missing.
# As root it runs apt-get; otherwise it prints the exact command and exits 1.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsystemc-dev
  libboost-program-options-dev libboost-dev
  libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  zlib1g-dev libdeflate-dev libpng-dev libjpeg62-turbo-dev
  libtorch-dev libopenblas-dev
  dataset-fashion-mnist
  python3-numpy python3-matplotlib python3-pandas python3-pytest python3-torch
  slurm-wlm munge
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "swatsim setup: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && $cmd" >&2
    exit 1
  fi
  echo "swatsim setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  $cmd
fi

# Debian's default BLAS is the slow reference implementation; LibTorch and numpy should use OpenBLAS.
if [ "$(id -u)" -eq 0 ] && command -v update-alternatives >/dev/null; then
  arch_triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
  for alt in "libblas.so.3-$arch_triplet" "liblapack.so.3-$arch_triplet"; do
    target=$(update-alternatives --list "$alt" 2>/dev/null | grep -m1 openblas || true)
    [ -n "$target" ] && update-alternatives --set "$alt" "$target" >/dev/null
  done
fi
exit 0
