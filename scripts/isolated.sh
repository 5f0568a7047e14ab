#!/usr/bin/env bash
# Runs a command (e.g. `npm test`) with private /run/netns and /run/hanet-lab, in its own mount namespace: lab
# namespace names and lab state files then cannot collide with another checkout's labs running at the same time.
# Development aid only (root). Namespaces the command leaves behind vanish from view with it: it cleans up anyway.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
mkdir -p /run/netns /run/hanet-lab
exec unshare --mount --propagation private bash -c '
  mount -t tmpfs tmpfs /run/netns && mount -t tmpfs tmpfs /run/hanet-lab && exec "$@"' isolated "$@"
