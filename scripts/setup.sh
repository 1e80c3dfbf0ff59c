#!/usr/bin/env bash
# Installs everything ironclad needs to build and test on a fresh Debian
# machine. Idempotent: packages already present are skipped, so running it on
# every CI run costs a dpkg query and nothing more.
set -euo pipefail

# Build: etcd-client (the crate) compiles etcd's protobufs with protoc.
# Test/bench: a real etcd v3 (server + etcdctl) started on loopback; openssl
# and python3 for the kubectl acceptance scenarios and the Python client tests.
PACKAGES=(
  protobuf-compiler libprotobuf-dev
  etcd-server etcd-client
  openssl python3
)
# kubectl: the machine's own (1.27-1.33 builds) when present; otherwise
# Debian's kubernetes-client as the fallback.
command -v kubectl >/dev/null 2>&1 || PACKAGES+=(kubernetes-client)
# pip for the Python client tests, unless python3 already has one (pyenv).
python3 -m pip --version >/dev/null 2>&1 || PACKAGES+=(python3-pip)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's etcd-server package enables a system etcd on :2379; our tests and
  # benchmarks start their own members on free ports and must not race it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
    $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
else
  echo "setup: all packages present"
fi

# The Python client tests (make test-python): the official kubernetes client
# from PyPI, pinned, and pytest. Checked with one `pip show`; installed only
# when missing or at another version.
PY_PACKAGES=(kubernetes==37.0.2 pytest==9.2.0)
declare -A py_have=()
while IFS=': ' read -r key value; do
  case $key in
    Name) name=${value,,} ;;
    Version) py_have[$name]=$value ;;
  esac
done < <(python3 -m pip show "${PY_PACKAGES[@]%%==*}" 2>/dev/null || true)
py_missing=()
for spec in "${PY_PACKAGES[@]}"; do
  [[ ${py_have[${spec%%==*}]:-} == "${spec#*==}" ]] || py_missing+=("$spec")
done

if ((${#py_missing[@]})); then
  echo "setup: pip installing ${py_missing[*]}"
  pip=(python3 -m pip install --quiet --disable-pip-version-check)
  if ! out=$("${pip[@]}" "${py_missing[@]}" 2>&1); then
    # Debian's own python3 (PEP 668) refuses pip installs outside a venv.
    if grep -q externally-managed-environment <<<"$out"; then
      "${pip[@]}" --break-system-packages "${py_missing[@]}"
    else
      echo "$out" >&2
      exit 1
    fi
  fi
else
  echo "setup: python packages present"
fi
