#!/usr/bin/env bash
# Set up a fresh Debian machine (Python 3.11, root) for ibsweep: system packages
# the tests need (OpenSSH server and client), a virtualenv in .venv, and the
# pinned requirements. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need_apt+=(openssh-client)
# the HTML report tests open the page in a real headless Chromium (Playwright drives it)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (needed by the SSH and report tests)" >&2
  fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(cat requirements.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing requirements"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# Compile the numba kernels once (numba caches them beside the sources, per checkout), so
# that the first run of a fresh clone starts as fast as the next ones (about 10 s moved
# here from that run's start-up; 0.5 s when already compiled).
echo "setup: compiling the sweep kernels (numba cache)"
.venv/bin/python -c 'from backtest.engines.sweep import warm_up; print(f"setup: kernels ready in {warm_up():.1f} s")'
