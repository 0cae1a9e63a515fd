#!/usr/bin/env bash
# The plan of a pull request's base branch for one environment: the point the PR's offline preview is compared with.
# Usage: base-plan.sh ENV BASE_REF OUT.json   (BASE_REF: main, or refs/heads/main)
#
# The base branch is checked out next to the PR (a git worktree) with its own .venv, so its plan is what main's code
# and main's Pulumi.<env>.yaml give. An environment main does not have yet gets an empty plan: every resource of the
# PR then shows as a create.
set -euo pipefail
env="$1" ref="${2#refs/heads/}" out="$3"
base="$(mktemp -d)/base"
git fetch --no-tags --depth=1 origin "$ref"
git worktree add --detach "$base" FETCH_HEAD
trap 'git worktree remove --force "$base"' EXIT
make -C "$base" setup > /dev/null
status=0
(cd "$base" && .venv/bin/python -m stacks.preview "$env" --quiet --json "$out") || status=$?
# 1: the base has mandatory findings (the plan is still written). 2: no such stack or config there yet.
if [ "$status" -eq 2 ] && [ ! -s "$out" ]; then
  echo "base-plan: '$ref' has no usable stack '$env': comparing with an empty plan" >&2
  printf '{"plan": {"stack": "%s", "resources": []}}\n' "$env" > "$out"
elif [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  exit "$status"
fi
