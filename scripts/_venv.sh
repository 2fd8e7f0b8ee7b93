# Shared by scripts/demo and scripts/test: make .venv with Python 3.11+ and install Advocate
# with the extras they need (ADVOCATE_EXTRAS; the default, "test", includes devstore).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Advocate needs Python 3.11 or newer; '$PYTHON' is $("$PYTHON" --version 2>&1 || echo missing)." >&2
  echo "Install it, or run with PYTHON=/path/to/python3.11 $0" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "== installing Advocate and its dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${ADVOCATE_EXTRAS:-test}]"
