#!/bin/bash
# Fails each allocation in turn in the cloud wire code and OCI signing, under ASan/LSan (tests/cloud/alloc_sweep.c).
cd "$(dirname "$0")/../.."
make -s build/tests/cloud/alloc_sweep >/dev/null 2>&1 || { echo "not ok 1 - build the allocation sweep"; exit 1; }
exec build/tests/cloud/alloc_sweep
