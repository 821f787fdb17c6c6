#!/usr/bin/env bash
# The /docs browser test drives Debian's chromium through playwright-core, which downloads no
# browser of its own. Install it when missing and we may (root with apt-get); otherwise say how.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium not found: installing Debian's chromium for the browser test" >&2
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "error: the browser test needs chromium at /usr/bin/chromium" >&2
echo "hint: sudo apt-get install chromium (Debian/Ubuntu), then run npm test again" >&2
exit 1
