#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs this
# executor may use as {"name": "gpu", "addresses": ["0", ...]}. Under YARN with GPU isolation
# (yarn.io/gpu, cgroups) nvidia-smi only sees the container's GPUs, so listing them all is right.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null; then
  echo "discover_gpus.sh: Cannot find GPUs: nvidia-smi is not on PATH of this node. Install the NVIDIA driver or submit without --gpu." >&2
  exit 1
fi
ids="$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | awk 'NF { printf "%s\"%s\"", sep, $0; sep = "," }')"
if [ -z "$ids" ]; then
  echo "discover_gpus.sh: Cannot find GPUs: nvidia-smi lists none for this container. Check yarn.io/gpu on the node managers." >&2
  exit 1
fi
echo "{\"name\": \"gpu\", \"addresses\": [$ids]}"
