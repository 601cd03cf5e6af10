#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# cppcheck of src/ and shellcheck of the ops scripts against the reviewed
# baseline (tests/ops/static-analysis.sh); clang-tidy too with OPS_SLOW=1
# (minutes).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${OPS_SLOW-}" ]; then
	exec "$here/static-analysis.sh"
fi
echo "SKIP: clang-tidy (minutes): OPS_SLOW=1 or tests/ops/static-analysis.sh --tidy"
exec "$here/static-analysis.sh" --cppcheck --shellcheck
