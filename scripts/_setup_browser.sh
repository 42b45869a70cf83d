# Sourced by scripts/test: make sure the system chromium is there for the browser tests
# (tests/app/test_browser.py drives it with Playwright; no browser is ever downloaded).
# Installs Debian's chromium with apt-get when it is missing and we are root; otherwise says
# why the browser tests will skip.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing Debian's chromium for the browser tests (apt-get)" >&2
    _log="$(mktemp)"
    if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >"$_log" 2>&1; then
      echo "[setup] chromium installed: $(command -v chromium)" >&2
    else
      echo "[setup] could not install chromium (last lines below); the browser tests will skip" >&2
      tail -5 "$_log" >&2
    fi
    rm -f "$_log"
  else
    echo "[setup] no chromium on PATH and cannot install it (needs root and apt-get): the browser tests will skip" >&2
  fi
fi
