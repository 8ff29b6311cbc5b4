#!/usr/bin/env bash
# Differential test on a 10 MB file:
#   bigfile.sh SENTRY_BINARY sort|sha256sum
# Writes the file once, deterministically (lines of SHA-256 hex of a counter, in no
# particular order), into a temporary directory, then hands `sort data.txt` or
# `sha256sum data.txt` to difftest.sh from that directory, so both runs read the same
# bytes and print the same relative name.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system python (what setup.sh installs) starts fastest; any python3 >= 3.8 works.
python=/usr/bin/python3
[[ -x $python ]] || python=python3
sentry=${1:?usage: bigfile.sh SENTRY_BINARY sort|sha256sum}
tool=${2:?usage: bigfile.sh SENTRY_BINARY sort|sha256sum}
case $tool in
sort | sha256sum) ;;
*) echo "bigfile.sh: unknown tool '$tool'" >&2; exit 2 ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/bigfile.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$python" - "$work/data.txt" <<'PY'
import hashlib, sys
size = 10_000_000
with open(sys.argv[1], "w") as f:
    written, i = 0, 0
    while written < size:
        line = hashlib.sha256(str(i).encode()).hexdigest() + "\n"
        line = line[: size - written - 1] + "\n" if written + len(line) > size else line
        f.write(line)
        written += len(line)
        i += 1
PY
cd "$work" || exit 2
# sort may spill to temporary files: keep both runs' inside $work, removed on exit.
export TMPDIR=$work
bash "$here/difftest.sh" --timeout 60 "$sentry" -- "$(command -v "$tool")" data.txt
